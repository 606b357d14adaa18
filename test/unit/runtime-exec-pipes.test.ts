// The FIFO stock (batches made ahead, stale names dropped, each name given once), FIFO ends a child gets in blocking
// mode with end of file when berthd's end closes, and which runtime log lines say why an exec could not start.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { FifoStock, inputPipe, outputPipe } from '../../src/runtime/fifo-stock';
import { runtimeErrors } from '../../src/runtime/exec-direct';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fifos-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the stock makes FIFOs in batches, drops a previous daemon\'s, and never gives a name twice', async (t) => {
  const dir = path.join(tmp(t), 'fifos');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'stale'), '');
  const stock = new FifoStock(dir, 4);
  const first = await stock.take(3);
  assert.equal(fs.existsSync(path.join(dir, 'stale')), false);
  for (const f of first) assert.ok(fs.statSync(f).isFIFO(), f);
  const more = await stock.take(6);
  const all = [...first, ...more];
  assert.equal(new Set(all).size, 9);
});

test('a child writes and reads real pipes: /dev/stdout and /dev/stdin open, and input ends when berthd\'s end closes', async (t) => {
  const stock = new FifoStock(path.join(tmp(t), 'fifos'), 2);
  const [a, b] = await stock.take(2);
  const out = outputPipe(a!);
  const input = inputPipe(b!);
  for (let i = 0; i < 100 && fs.existsSync(a!); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(fs.existsSync(a!), false, 'the name goes once opened');
  // A process expects blocking stdio: the child prints its stdin's and stdout's flags (O_NONBLOCK is 04000, octal).
  const child = spawn('sh', ['-c', 'grep -h flags /proc/self/fdinfo/0 /proc/self/fdinfo/1; cat; echo " via name" > /dev/stdout'], { stdio: [input.childEnd, out.childEnd, 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  fs.closeSync(input.childEnd);
  fs.closeSync(out.childEnd);
  const chunks: Buffer[] = [];
  out.reader.on('data', (d: Buffer) => chunks.push(d));
  input.writer.end('piped');
  const [code] = await Promise.all([new Promise((r) => child.on('exit', r)), new Promise((r) => out.reader.on('close', r))]);
  const lines = Buffer.concat(chunks).toString().split('\n');
  for (const l of lines.slice(0, 2)) assert.equal(parseInt(/flags:\s*(\d+)/.exec(l)![1]!, 8) & 0o4000, 0, l);
  assert.equal(lines.slice(2).join('\n'), 'piped via name\n');
  assert.equal(code, 0);
});

test('runtime log: the error lines are why a process could not start, warnings are not', () => {
  const log = [
    '{"msg":"cannot detect HOME environment variable, setting default","level":"warning","time":"x"}',
    '{"msg":"executable file `x` not found in $PATH: No such file or directory","level":"error","time":"x"}',
    '',
  ].join('\n');
  assert.equal(runtimeErrors(log), '{"msg":"executable file `x` not found in $PATH: No such file or directory","level":"error","time":"x"}');
  assert.equal(runtimeErrors('time="t" level=error msg="exec failed"\n'), 'time="t" level=error msg="exec failed"');
});
