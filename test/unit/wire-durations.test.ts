// Table tests of Go's duration grammar (src/wire/durations.ts) and Docker's timestamps (src/wire/timestamps.ts), each
// once for the CLI, the builder and the daemon. The cases marked "was:" are where the copies they replaced disagreed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from '../../src/wire/durations';
import { getTimestamp, parseUntil } from '../../src/wire/timestamps';
import { InvalidParameterError } from '../../src/errdefs';
import { parseDockerfile } from '../../src/build/dockerfile';
import { buildCreateRequest, InvalidFlagError } from '../../src/cli/container-options';

test('Go durations as time.ParseDuration reads them', () => {
  const cases: [string, number][] = [
    ['0', 0], ['-0', 0], ['300ms', 300e6], ['1h30m', 5400e9], ['1.5h', 5400e9], ['-1s', -1e9], ['+2s', 2e9],
    ['1m30s', 90e9], ['500ms', 5e8], ['.5s', 5e8], ['5.s', 5e9], ['1us', 1e3], ['1µs', 1e3], ['7ns', 7],
    ['1h0m0.5s', 3600.5e9], ['2h45m10s', 9910e9],
  ];
  for (const [s, ns] of cases) assert.equal(parseGoDuration(s), ns, s);
});

test('bad durations get Go\'s words', () => {
  const cases: [string, string][] = [
    ['', 'time: invalid duration ""'],
    ['-', 'time: invalid duration "-"'],
    ['5', 'time: missing unit in duration "5"'],
    ['1h5', 'time: missing unit in duration "1h5"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['.s', 'time: invalid duration ".s"'],
    ['h', 'time: invalid duration "h"'],
    // was (CLI): trimmed first, so " 5s" passed; Go's ParseDuration takes no spaces.
    [' 5s', 'time: invalid duration " 5s"'],
  ];
  for (const [s, message] of cases) {
    assert.throws(() => parseGoDuration(s), (e: Error) => e instanceof InvalidParameterError && e.message === message, s);
  }
});

test('durations written as time.Duration.String', () => {
  const cases: [number, string][] = [
    [0, '0s'], [300e6, '300ms'], [1.5e9, '1.5s'], [90e9, '1m30s'], [3600e9, '1h0m0s'], [1500, '1.5µs'], [7, '7ns'],
    [30e9, '30s'], [-2e9, '-2s'], [1.000000001e9, '1.000000001s'],
  ];
  for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text);
});

test('timestamps as timetypes.GetTimestamp reads them', () => {
  const now = 1_000_000_000; // ms
  const cases: [string, string][] = [
    ['10m', String(1_000_000 - 600)],
    // was: the daemon's container and network prune took only one unit ("1h", "30m"), image filters any.
    ['1h30m', String(1_000_000 - 5400)],
    ['1.5h', String(1_000_000 - 5400)],
    ['-1s', String(1_000_000 + 1)],
    ['1700000000', '1700000000'],
    ['1700000000.5', '1700000000.5'],
    ['0', '0'],
    ['2013-01-02T13:23:37Z', '1357133017'],
    ['2013-01-02T13:23:37.5Z', '1357133017.500000000'],
    ['2013-01-02T13:23:37+01:00', '1357129417'],
    ['2013-01-02Z', '1357084800'],
  ];
  for (const [value, want] of cases) assert.equal(getTimestamp(value, now), want, value);
  // Without a zone a date is local time, as Go's ParseInLocation(time.Local).
  assert.equal(getTimestamp('2013-01-02', now), String(new Date(2013, 0, 2).getTime() / 1000));
  assert.equal(getTimestamp('2013-01-02T13', now), String(new Date(2013, 0, 2, 13).getTime() / 1000));
  assert.equal(getTimestamp('2013-01-02T13:23', now), String(new Date(2013, 0, 2, 13, 23).getTime() / 1000));
});

test('bad timestamps get moby\'s words, for every filter alike', () => {
  // was: container and network prune said "invalid filter 'until=yesterday'", the CLI "invalid value for timestamp".
  for (const v of ['yesterday', '5', '1d', 'Jan 2 2013', '2013-13-45']) {
    if (v === '5') continue; // a bare number is Unix seconds
    assert.throws(() => getTimestamp(v), (e: Error) => e instanceof InvalidParameterError
      && e.message === `failed to parse value as time or duration: ${JSON.stringify(v)}`, v);
  }
});

test('parseUntil is milliseconds, relative to now for durations', () => {
  assert.equal(parseUntil('1700000000.5'), 1_700_000_000_500);
  const before = Date.now();
  const t = parseUntil('1h30m');
  assert.ok(Math.abs(before - 5400e3 - t) < 2000);
  assert.deepEqual(['1h', '2h'].map(parseUntil).length, 2); // one argument: safe to give to map()
});

test('the builder and the CLI put Go\'s words inside theirs', () => {
  assert.throws(() => parseDockerfile('FROM scratch\nHEALTHCHECK --interval=5 CMD true\n'), /time: missing unit in duration "5"/);
  const df = parseDockerfile('FROM scratch\nHEALTHCHECK --interval=1m30s --timeout=1.5s CMD true\n');
  const hc = df.stages[0]!.instructions.find((i) => i.kind === 'HEALTHCHECK') as unknown as { interval?: number; timeout?: number };
  assert.equal(hc.interval, 90e9);
  assert.equal(hc.timeout, 1.5e9);
  assert.throws(() => buildCreateRequest({ healthInterval: '5' } as never, 'busybox', [], {}),
    (e: Error) => e instanceof InvalidFlagError && e.message === 'invalid argument "5" for "--health-interval" flag: time: missing unit in duration "5"');
  assert.equal(buildCreateRequest({ healthInterval: '1.5s' } as never, 'busybox', [], {}).body.Healthcheck?.Interval, 1.5e9);
});
