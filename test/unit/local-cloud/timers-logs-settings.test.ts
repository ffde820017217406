/**
 * The local cloud's parts a person meets first: timer triggers on WeChat's 7-field cron, log lines
 * made readable, and the settings `npm start` takes from the environment and .env.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { formatLogLine, LogHub, readableLogLine } from '../../emulator/log-hub';
import { parseWechatCron, startTimers, yearMatches } from '../../emulator/timers';
import { checkSettings, describeSettings, operatorSettings } from '../../../scripts/settings';

describe('timer triggers', () => {
  test('a 7-field WeChat cron is split into croner’s six fields and the year', () => {
    expect(parseWechatCron('0 */5 * * * * *')).toEqual({ pattern: '0 */5 * * * *', year: '*' });
    expect(parseWechatCron('0 0 2 1 * * 2026')).toEqual({ pattern: '0 0 2 1 * *', year: '2026' });
  });

  test.each([['*/5 * * * *'], ['0 0 2 1 * * * *'], ['x * * * * * *'], ['0 0 2 1 * * 20x6']])('"%s" is refused with a message', (expr) => {
    expect(() => parseWechatCron(expr)).toThrow(/7 fields|illegal|year/);
  });

  test.each([
    ['*', 2026, true],
    ['2026', 2026, true],
    ['2027', 2026, false],
    ['2025-2027', 2026, true],
    ['2027-2030', 2026, false],
    ['2024/2', 2026, true],
    ['2024/2', 2027, false],
    ['2020,2026', 2026, true],
  ])('year field %s matches %i: %s', (field, year, expected) => {
    expect(yearMatches(field, year)).toBe(expected);
  });

  test('a timer fires on its cron, and not after it is stopped', async () => {
    const fired: string[] = [];
    const t = startTimers([{ fn: 'reconcile', name: 'every-second', config: '* * * * * * *' }], (spec) => fired.push(spec.fn));
    expect(t.timers[0]!.next()).toMatch(/^\d{4}-/);
    await new Promise((r) => setTimeout(r, 2300));
    t.stop();
    const seen = fired.length;
    expect(seen).toBeGreaterThanOrEqual(1);
    expect(t.timers[0]!.fired).toBe(seen);
    await new Promise((r) => setTimeout(r, 1200));
    expect(fired.length).toBe(seen);
  });

  test('a timer whose year has passed never fires', async () => {
    const fired: string[] = [];
    const t = startTimers([{ fn: 'reconcile', name: 'old', config: '* * * * * * 2001' }], (spec) => fired.push(spec.fn));
    await new Promise((r) => setTimeout(r, 1300));
    t.stop();
    expect(fired).toEqual([]);
  });
});

describe('log lines', () => {
  test('our JSON log lines read as event and fields; other lines as written', () => {
    expect(readableLogLine('{"fn":"pay","event":"failure","code":"INSUFFICIENT_BALANCE","retryable":false}')).toBe('failure code=INSUFFICIENT_BALANCE retryable=false');
    expect(readableLogLine('  plain text from the SDK ')).toBe('plain text from the SDK');
    expect(readableLogLine('{not json')).toBe('{not json');
  });

  test('the hub keeps lines in order for late readers and tells subscribers at once', () => {
    const hub = new LogHub();
    const seen: string[] = [];
    hub.add('pay', 'log', 'one');
    const stop = hub.subscribe((l) => seen.push(l.text));
    const two = hub.add('cloud', 'cloud', 'two');
    stop();
    hub.add('pay', 'call', 'three');
    expect(seen).toEqual(['two']);
    expect(hub.since(two.seq - 1).map((l) => l.text)).toEqual(['two', 'three']);
    expect(formatLogLine(two)).toMatch(/^\d\d:\d\d:\d\d\.\d{3} • cloud +two$/);
  });
});

describe('settings for npm start', () => {
  const dir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    writeFileSync(path.join(d, '.env'), 'MIDAS_ENV=production\nMIDAS_SECRET=from-dotenv-secret-1\nMIDAS_ZONE_ID=2\nMIDAS_ZONEID=3\nUNRELATED=1\n');
    return d;
  };

  test('.env gives settings, the environment wins over it, and names no function reads are reported', () => {
    const s = operatorSettings(dir(), { MIDAS_ZONE_ID: '7', PATH: '/bin' });
    expect(s.values).toEqual({ MIDAS_ENV: 'production', MIDAS_SECRET: 'from-dotenv-secret-1', MIDAS_ZONE_ID: '7' });
    expect(s.sources).toEqual({ MIDAS_ENV: '.env', MIDAS_SECRET: '.env', MIDAS_ZONE_ID: 'environment' });
    expect(s.unknown).toEqual(['MIDAS_ZONEID']);
  });

  test('a .env line that is not a setting is an error naming every such line, never its content', () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'settings-bad-'));
    writeFileSync(path.join(d, '.env'), '# a comment\nMIDAS_ZONE_ID=2\nthis is not a setting\nMIDAS_ENV\n=secret-value-123\nmidas_env=prod\nexport MIDAS_OFFER_ID=1450012345\n\n');
    let message = '';
    try {
      operatorSettings(d, {});
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(`${path.join(d, '.env')} has lines that are not settings:\n  line 3 is not NAME=value\n  line 4 is not NAME=value\n  line 5 has no name before =\n  line 6: midas_env must be written MIDAS_ENV (names are case-sensitive)`);
    expect(message).not.toContain('secret-value-123');
    writeFileSync(path.join(d, '.env'), '# fine\nMIDAS_ZONE_ID=2\nexport MIDAS_OFFER_ID="1450012345"\n');
    expect(operatorSettings(d, {}).values).toEqual({ MIDAS_ZONE_ID: '2', MIDAS_OFFER_ID: '1450012345' });
  });

  test('the settings in force are listed with where they came from, never a secret’s value', () => {
    const lines = describeSettings({ MIDAS_ENV: 'production', MIDAS_SECRET: 'from-dotenv-secret-1', WX_PUSH_TOKEN: 'tok123' }, { MIDAS_ENV: '.env' });
    expect(lines).toEqual(['MIDAS_ENV=production  [.env]', 'MIDAS_SECRET=(set, not shown)  [local cloud default]', 'WX_PUSH_TOKEN=(set, not shown)  [local cloud default]']);
    expect(lines.join('\n')).not.toContain('from-dotenv-secret-1');
  });

  test('a bad setting is the error a deployed function gives, naming the variable and not its value', () => {
    expect(() => checkSettings({ MIDAS_ENV: 'prod', MIDAS_OFFER_ID: '1450012345' })).toThrow('configuration: MIDAS_ENV must be `sandbox` or `production`');
    expect(() => checkSettings({ MIDAS_ENV: 'sandbox', MIDAS_OFFER_ID: '1450012345', MIDAS_SANDBOX_SECRET: 'has spaces in it' })).toThrow(/^configuration: MIDAS_SANDBOX_SECRET is malformed/);
  });
});
