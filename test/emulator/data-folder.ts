/**
 * The data folder of a local cloud that persists (`npm start`'s `.local-cloud`): one local cloud
 * at a time holds it (a lock naming the process), and everything the local cloud holds besides
 * the database and the Midas v1 accounts (which keep their own files) is kept in `state.json`:
 * the secrets it made up for this folder, the 2.0 accounts, the WeChat client's sessions and paid
 * orders, the pushes, the YSDK accounts, the players and which were seeded. So everything
 * survives a restart together, or (delete the folder) nothing does.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import path from 'path';

/** Folders held by this process (a second local cloud in the same process is refused too). */
const held = new Set<string>();

export class DataFolderInUse extends Error {}

interface LockInfo {
  pid: number;
  startedAt: string;
  url?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DataFolder {
  private constructor(readonly dir: string) {}

  private get lockFile(): string {
    return path.join(this.dir, 'lock.json');
  }

  private get stateFile(): string {
    return path.join(this.dir, 'state.json');
  }

  /** Takes the folder, or throws naming the process that holds it. A lock left by a process that is gone is taken over. */
  static acquire(dir: string): DataFolder {
    const abs = path.resolve(dir);
    mkdirSync(abs, { recursive: true });
    const folder = new DataFolder(abs);
    const mine: LockInfo = { pid: process.pid, startedAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(folder.lockFile, JSON.stringify(mine), { flag: 'wx' });
        held.add(abs);
        return folder;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let other: LockInfo | undefined;
      try {
        other = JSON.parse(readFileSync(folder.lockFile, 'utf8')) as LockInfo;
      } catch {
        other = undefined;
      }
      const inUse = other !== undefined && (other.pid === process.pid ? held.has(abs) : alive(other.pid));
      if (inUse) {
        throw new DataFolderInUse(
          `the data folder ${abs} is in use by process ${other!.pid}${other!.url ? ` (${other!.url})` : ''}, started ${other!.startedAt}: stop that one, or give this one its own folder with LOCAL_CLOUD_DIR`,
        );
      }
      rmSync(folder.lockFile, { force: true }); // left by a process that is gone
    }
    throw new DataFolderInUse(`the data folder ${abs} could not be locked`);
  }

  /** Records where this local cloud listens, for the message another start shows. */
  noteUrl(url: string): void {
    const info = JSON.parse(readFileSync(this.lockFile, 'utf8')) as LockInfo;
    writeFileSync(this.lockFile, JSON.stringify({ ...info, url }));
  }

  release(): void {
    held.delete(this.dir);
    try {
      const info = JSON.parse(readFileSync(this.lockFile, 'utf8')) as LockInfo;
      if (info.pid === process.pid) rmSync(this.lockFile, { force: true });
    } catch {
      // already gone
    }
  }

  readState<T>(): T | undefined {
    if (!existsSync(this.stateFile)) return undefined;
    return JSON.parse(readFileSync(this.stateFile, 'utf8')) as T;
  }

  /** Writes the state if it changed since the last write (atomically: a crash leaves the old or the new). */
  private last = '';
  writeState(state: unknown): void {
    const text = JSON.stringify(state);
    if (text === this.last) return;
    writeFileSync(`${this.stateFile}.tmp`, text);
    renameSync(`${this.stateFile}.tmp`, this.stateFile);
    this.last = text;
  }
}
