// Real test of src/runtime/exec-direct.ts: `crun exec` as this process's child on FIFOs, in a crun busybox container.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { startDirectExec } from '../../src/runtime/exec-direct';
import { ExecStartError, type ExecProcessOptions } from '../../src/runtime/exec-process';
import { FifoStock } from '../../src/runtime/fifo-stock';
import type { RuntimeBinaries } from '../../src/runtime/oci-runtime';
import { crunSkip, prepareHostForCrun, runContainer } from '../helpers/crun-container';

const skip = crunSkip;
// crun's default state root, /run/crun, where runContainer's `crun run` put the container.
const bin: RuntimeBinaries = { runtimes: { crun: '/usr/bin/crun' }, conmon: '/usr/bin/conmon', stateRoot: '/run' };

test.before(async () => {
  if (!skip) await prepareHostForCrun();
});

function setup(t: TestContext) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-exec-direct-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const fifos = new FifoStock(path.join(root, 'fifos'), 4);
  const c = runContainer(t, ['sleep', '600']);
  let n = 0;
  const exec = (args: string[], o: Partial<ExecProcessOptions> = {}) => startDirectExec(bin, fifos, {
    containerId: c.id, execId: `e${n}`, runtime: 'crun', dir: path.join(root, `e${n++}`),
    process: { ...c.process, args: ['/bin/busybox', ...args] }, stdin: false, terminal: false, output: true, ...o,
  });
  return { c, exec, root };
}

async function readAll(r: Readable | null): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of r!) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

test('output on real pipes (a script may open /dev/stderr), the exit status and the PID in the container', { skip }, async (t) => {
  const { c, exec } = setup(t);
  const p = await exec(['sh', '-c', 'echo out; echo err >&2; echo by-name >/dev/stderr; cat /proc/self/stat >/dev/null; exit 3']);
  const [out, err, code] = await Promise.all([readAll(p.pipes!.stdout), readAll(p.pipes!.stderr), p.exited]);
  assert.deepEqual({ out, err, code }, { out: 'out\n', err: 'err\nby-name\n', code: 3 });
  assert.ok(p.pid > 0 && p.pid !== c.state().pid, `pid ${p.pid}`);
  assert.equal(p.pipes!.stdin, null);
});

test('stdin: the input, then end of file, even to a process that opens /dev/stdin after the input ended', { skip }, async (t) => {
  const { exec } = setup(t);
  const p = await exec(['sh', '-c', 'sleep 0.3; /bin/busybox cat /dev/stdin; /bin/busybox cat; echo done'], { stdin: true });
  p.pipes!.stdin!.end('hello\n');
  const [out, code] = await Promise.all([readAll(p.pipes!.stdout), p.exited]);
  assert.deepEqual({ out, code }, { out: 'hello\ndone\n', code: 0 });
  // A process that ends without reading all its input, the client's input still open: its exit is the end.
  const q = await exec(['head', '-c', '2'], { stdin: true });
  q.pipes!.stdin!.write('hello');
  assert.deepEqual(await Promise.all([readAll(q.pipes!.stdout), q.exited]), ['he', 0]);
  q.pipes!.stdin!.destroy();
});

test('a command that cannot start: the runtime\'s own message, as an ExecStartError', { skip }, async (t) => {
  const { exec } = setup(t);
  const missing = exec([], { process: { args: ['nosuchcmd'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } } });
  await assert.rejects(missing, (e: unknown) => {
    assert.ok(e instanceof ExecStartError, String(e));
    assert.match(e.message, /executable file not found in \$PATH/);
    return true;
  });
  const noDir = exec([], { process: { args: ['/bin/busybox', 'true'], cwd: '/nonexist', env: [], user: { uid: 0, gid: 0 } } });
  await assert.rejects(noDir, /chdir .*\/nonexist.*no such file or directory/);
});

test('kill signals the process; a container killed takes its exec with it (128 + 9)', { skip }, async (t) => {
  const { c, exec } = setup(t);
  const p = await exec(['sleep', '600'], { output: false });
  assert.deepEqual(p.pipes, { stdin: null, stdout: null, stderr: null });
  p.kill('SIGTERM');
  assert.equal(await p.exited, 128 + 15);
  const q = await exec(['sleep', '600']);
  execFileSync('crun', ['kill', c.id, 'KILL']);
  assert.equal(await q.exited, 128 + 9);
});
