import { existsSync } from 'fs';
import path from 'path';

/** The repo root: the nearest folder up from here with project.config.json (works bundled or not). */
function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'project.config.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`project.config.json not found above ${start}`);
  }
}

export const ROOT = findRoot(__dirname);
export const FUNCTIONS_DIR = path.join(ROOT, 'cloudfunctions');
export const INSTANCE_HOST = path.join(ROOT, 'test', 'emulator', 'instance-host.cjs');
/** The function table the build writes: each function's manifest (timeout, triggers, permissions), by name. */
export const FUNCTION_TABLE = path.join(ROOT, 'build', 'functions.json');
