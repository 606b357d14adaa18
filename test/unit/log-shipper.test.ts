// The log shipper's logic over a fake link: lines of a conmon log delivered in order, a destination that is down
// fills a bounded buffer and the overflow is counted, a link that breaks gets its last moment's lines again, and
// the position on disk lets a new shipper resume without resending.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogShipper, type LogShipperOptions } from '../../src/engine/log-shipper';
import type { LogDialer, LogLink } from '../../src/network/log-links';
import { until } from '../helpers/wait';

/** A receiver behind a fake link: up or down, and a way to break the open link. */
class FakeReceiver {
  up = true;
  received: string[] = [];
  dials = 0;
  private breakLink?: (e: Error) => void;

  readonly dial: LogDialer = async () => {
    this.dials++;
    if (!this.up) throw new Error('connect ECONNREFUSED');
    let broken!: (e: Error) => void;
    const link: LogLink = {
      broken: new Promise<Error>((resolve) => { broken = resolve; }),
      send: async (messages) => {
        if (!this.up) throw new Error('EPIPE');
        for (const frames of messages) this.received.push(Buffer.concat(frames).toString());
      },
      close: () => undefined,
    };
    this.breakLink = broken;
    return link;
  };

  /** The receiver dies: what it got in the last moment is gone with it, and the link reports the break. */
  crash(lost: number): void {
    this.up = false;
    this.received.splice(this.received.length - lost, lost);
    this.breakLink?.(new Error('read ECONNRESET'));
  }
}

function k8sLines(texts: string[], stream = 'stdout'): string {
  return texts.map((t, i) => `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000000001Z ${stream} F ${t}\n`).join('');
}

function shipperFor(dir: string, rx: FakeReceiver, o: Partial<LogShipperOptions> = {}): LogShipper {
  const log = { info: () => undefined, error: () => undefined };
  return new LogShipper({
    id: 'c1', driver: 'fake', logPath: path.join(dir, 'container.log'), statePath: path.join(dir, 'log-shipper.json'),
    destination: { endpoint: { kind: 'tcp', host: '127.0.0.1', port: 1 }, encode: (l) => [Buffer.from(`${l.stream}:${l.text}`)] },
    dial: rx.dial, bufferBytes: 1 << 20, running: () => false, stopped: () => Promise.resolve(), log, confirmMs: 30, backoffMs: { min: 10, max: 20 }, ...o,
  });
}

test('delivers the log in order, joins partial lines, and a new shipper resumes from the saved position', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipper-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'container.log'), k8sLines(['a', 'b']) + '2026-01-01T00:00:03Z stdout P par\n2026-01-01T00:00:03Z stderr F err\n2026-01-01T00:00:04Z stdout F tial\n');
  const rx = new FakeReceiver();
  const s1 = shipperFor(dir, rx);
  await s1.start();
  await s1.idle();
  await s1.close();
  assert.deepEqual(rx.received, ['stdout:a', 'stdout:b', 'stderr:err', 'stdout:partial']);
  assert.deepEqual({ ...s1.status(), Connected: false }, { Driver: 'fake', Destination: 'tcp://127.0.0.1:1', Connected: false, Delivered: 4, Dropped: 0, Buffered: 0, LastError: '' });
  fs.appendFileSync(path.join(dir, 'container.log'), k8sLines(['c']));
  const s2 = shipperFor(dir, rx);
  await s2.start();
  await s2.idle();
  await s2.close();
  assert.deepEqual(rx.received.slice(4), ['stdout:c'], 'only what came after');
  assert.equal(s2.status().Delivered, 5);
});

test('a destination that is down: the buffer holds up to its bound, the oldest lines beyond are dropped and counted', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipper-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const texts = Array.from({ length: 50 }, (_, i) => `line-${i + 1}`);
  fs.writeFileSync(path.join(dir, 'container.log'), k8sLines(texts));
  const rx = new FakeReceiver();
  rx.up = false;
  const errors: string[] = [];
  // Each line counts its text and 64 bytes of overhead: 10 lines fit in 720 bytes.
  const s = shipperFor(dir, rx, { bufferBytes: 720, log: { info: () => undefined, error: (m) => errors.push(m) } });
  await s.start();
  await until(() => s.status().Dropped === 40 && rx.dials > 1, 'drops counted while down');
  assert.equal(s.status().Buffered, 10);
  assert.match(s.status().LastError, /ECONNREFUSED/);
  assert.ok(errors.some((e) => /buffer full \(720 bytes\)/.test(e)), errors.join('\n'));
  rx.up = true;
  await s.idle();
  await s.close();
  assert.deepEqual(rx.received, texts.slice(40).map((x) => `stdout:${x}`), 'the newest lines, once it is back');
  assert.deepEqual([s.status().Delivered, s.status().Dropped], [10, 40]);
});

test('a link that breaks gets the lines of its last moment again: none lost unseen', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipper-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logPath = path.join(dir, 'container.log');
  fs.writeFileSync(logPath, k8sLines(['1', '2', '3']));
  let running = true;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => { stop = r; });
  const rx = new FakeReceiver();
  const s = shipperFor(dir, rx, { confirmMs: 10_000, running: () => running, stopped: () => stopped });
  await s.start();
  await until(() => rx.received.length === 3, 'first lines sent');
  rx.crash(2);
  await until(() => s.status().LastError !== '', 'the break noticed');
  fs.appendFileSync(logPath, k8sLines(['4']));
  rx.up = true;
  running = false;
  stop();
  await until(() => rx.received.includes('stdout:4'), 'later lines after the return');
  await s.close();
  assert.deepEqual([...new Set(rx.received)].sort(), ['stdout:1', 'stdout:2', 'stdout:3', 'stdout:4']);
  assert.equal(s.status().Dropped, 0);
});

test('a container removed at its exit: retire reads the log one last time and sends it before stopping', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipper-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logPath = path.join(dir, 'container.log');
  fs.writeFileSync(logPath, '');
  const rx = new FakeReceiver();
  // Still 'running' as far as the shipper knows: the removal comes before it saw the stop.
  const s = shipperFor(dir, rx, { running: () => true, stopped: () => new Promise(() => undefined) });
  await s.start();
  fs.appendFileSync(logPath, k8sLines(['last words']));
  await s.retire(2000);
  assert.deepEqual(rx.received, ['stdout:last words']);
});
