// The exec use-cases over a fake runner: a process on pipes (no TTY) gives its output, takes its stdin, reports its
// exit; detached and failed starts; refusals; the pipes' output ending at the exit and drained for a client gone.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { ExecService } from '../../src/engine/exec';
import { pipeOutput } from '../../src/engine/exec-pipes';
import type { ContainerService } from '../../src/engine/containers';
import type { ContainerRecord } from '../../src/engine/container-record';
import type { LogEntry } from '../../src/engine/logs';
import { ExecStartError, type ExecProcess, type ExecProcessOptions } from '../../src/runtime/exec-process';

/** A process the test drives: its pipes, and its exit when the test says. */
class FakeProcess {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin = new PassThrough();
  readonly signals: string[] = [];
  private exitWith!: (code: number) => void;
  readonly exited = new Promise<number>((resolve) => { this.exitWith = resolve; });

  exit(code: number): void {
    this.stdout.end();
    this.stderr.end();
    this.exitWith(code);
  }

  asExecProcess(o: ExecProcessOptions): ExecProcess {
    return {
      pid: 4242, exited: this.exited, kill: (s) => this.signals.push(s),
      pipes: { stdin: o.stdin ? this.stdin : null, stdout: o.output ? this.stdout : null, stderr: o.output ? this.stderr : null },
    };
  }
}

function world(t: { after(fn: () => void): void }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-exec-unit-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const cdir = path.join(root, 'c1');
  fs.mkdirSync(path.join(cdir, 'bundle'), { recursive: true });
  fs.mkdirSync(path.join(cdir, 'merged', 'etc'), { recursive: true });
  fs.writeFileSync(path.join(cdir, 'bundle', 'config.json'), JSON.stringify({ process: { args: ['sleep', '600'], cwd: '/', env: [], user: { uid: 0, gid: 0 } } }));
  fs.writeFileSync(path.join(cdir, 'merged', 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  fs.writeFileSync(path.join(cdir, 'merged', 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  const c = { id: 'c1'.padEnd(64, '0'), runtime: 'crun', state: { status: 'running' }, config: { Hostname: 'h', Env: ['A=1'] }, hostConfig: {} } as unknown as ContainerRecord;
  const events: string[] = [];
  const containers = {
    get: (ref: string) => { if (ref !== 'c1' && ref !== c.id) throw new Error(`no ${ref}`); return c; },
    find: (ref: string) => (ref === 'c1' || ref === c.id ? c : undefined),
    emit: (_c: ContainerRecord, action: string, extra: Record<string, string> = {}) => events.push(extra.exitCode !== undefined ? `${action} ${extra.exitCode}` : action.split(':')[0]!),
    dirOf: () => cdir,
    // A running container's root as its own namespace shows it (rootfs-users.ts): here a plain directory.
    rootfsUsers: { acquire: async () => ({ root: path.join(cdir, 'merged'), signal: new AbortController().signal, release: async () => undefined }) },
  } as unknown as ContainerService;
  const runs: ExecProcessOptions[] = [];
  const resizes: string[] = [];
  let next: FakeProcess | Error = new FakeProcess();
  const execs = new ExecService({
    runRoot: root, containers, log: { error: () => undefined },
    run: async (o) => {
      runs.push(o);
      if (next instanceof Error) throw next;
      return next.asExecProcess(o);
    },
    resize: async (dir) => { resizes.push(dir); },
    stdin: async () => { throw new Error('the conmon attach socket is not used for a process on pipes'); },
  });
  return { execs, c, events, runs, resizes, setNext: (p: FakeProcess | Error) => { next = p; } };
}

async function collect(output: AsyncGenerator<LogEntry>): Promise<string[]> {
  const got: string[] = [];
  for await (const e of output) got.push(`${e.stream}:${e.data.toString()}`);
  return got;
}

test('a process on pipes: output in order with its stream, exit code in inspect and exec_die, listed while it runs', async (t) => {
  const w = world(t);
  const p = new FakeProcess();
  w.setNext(p);
  const { Id } = w.execs.create('c1', { Cmd: ['sh', '-c', 'x'], AttachStdout: true, AttachStderr: true, Env: ['B=2'], User: 'nobody', WorkingDir: '/tmp' });
  const st = await w.execs.start(Id, { detach: false });
  assert.equal(st.startError, undefined);
  const run = w.runs[0]!;
  assert.deepEqual({ stdin: run.stdin, output: run.output, terminal: run.terminal }, { stdin: false, output: true, terminal: false });
  assert.deepEqual(run.process.args, ['sh', '-c', 'x']);
  assert.deepEqual(run.process.user, { uid: 65534, gid: 65534, additionalGids: [65534] });
  assert.equal(run.process.cwd, '/tmp');
  assert.ok(run.process.env!.includes('B=2') && run.process.env!.includes('A=1'));
  assert.deepEqual(w.execs.idsOf(w.c.id), [Id]);
  assert.equal(w.execs.inspect(Id).Running, true);
  assert.equal(w.execs.inspect(Id).Pid, 4242);
  const got = collect(st.output);
  p.stdout.write('one\n');
  p.stderr.write('two\n');
  await new Promise((r) => setImmediate(r));
  p.stdout.write('three\n');
  p.exit(3);
  assert.deepEqual(await got, ['stdout:one\n', 'stderr:two\n', 'stdout:three\n']);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual({ running: w.execs.inspect(Id).Running, code: w.execs.inspect(Id).ExitCode, pid: w.execs.inspect(Id).Pid }, { running: false, code: 3, pid: 0 });
  assert.equal(w.execs.idsOf(w.c.id), null);
  assert.deepEqual(w.events, ['exec_create', 'exec_start', 'exec_die 3']);
  // Resizing a process without a TTY is no error and touches no console (dockerd's shim ignores it too).
  const again = w.execs.create('c1', { Cmd: ['true'] });
  w.setNext(new FakeProcess());
  await w.execs.start(again.Id, { detach: false });
  await w.execs.resize(again.Id, 10, 20);
  assert.deepEqual(w.resizes, []);
});

test('stdin: what the client sends reaches the process, and its end closes the process\'s stdin', async (t) => {
  const w = world(t);
  const p = new FakeProcess();
  w.setNext(p);
  const { Id } = w.execs.create('c1', { Cmd: ['cat'], AttachStdin: true, AttachStdout: true });
  const st = await w.execs.start(Id, { detach: false });
  assert.equal(w.runs[0]!.stdin, true);
  const received: Buffer[] = [];
  p.stdin.on('data', (d: Buffer) => received.push(d));
  const stdinEnded = new Promise((r) => p.stdin.on('finish', r));
  await st.attachStdin(Readable.from([Buffer.from('hel'), Buffer.from('lo')]));
  await stdinEnded;
  assert.equal(Buffer.concat(received).toString(), 'hello');
  p.exit(0);
  assert.deepEqual(await collect(st.output), []);
});

test('a process\'s stdin is closed at its exit, whether or not a client fed it', async (t) => {
  const w = world(t);
  const p = new FakeProcess();
  w.setNext(p);
  const { Id } = w.execs.create('c1', { Cmd: ['true'], AttachStdin: true });
  await w.execs.start(Id, { detach: false });
  p.exit(0);
  await new Promise((r) => setImmediate(r));
  assert.equal(p.stdin.destroyed, true);
});

test('detached: the runner is told nobody reads the output nor feeds stdin; the exit code is kept', async (t) => {
  const w = world(t);
  const p = new FakeProcess();
  w.setNext(p);
  const { Id } = w.execs.create('c1', { Cmd: ['sh'], AttachStdin: true, AttachStdout: true });
  await w.execs.start(Id, { detach: true });
  assert.deepEqual({ stdin: w.runs[0]!.stdin, output: w.runs[0]!.output }, { stdin: false, output: false });
  p.exit(5);
  await p.exited;
  await new Promise((r) => setImmediate(r));
  assert.equal(w.execs.inspect(Id).ExitCode, 5);
});

test('a process that cannot start: the runtime message, 127 for a missing command, 126 otherwise', async (t) => {
  const w = world(t);
  w.setNext(new ExecStartError('exec: "nosuch": executable file not found in $PATH'));
  const missing = w.execs.create('c1', { Cmd: ['nosuch'], AttachStdout: true });
  const st = await w.execs.start(missing.Id, { detach: false });
  assert.match(st.startError ?? '', /^OCI runtime exec failed: .*"nosuch": executable file not found in \$PATH: unknown$/);
  assert.equal(w.execs.inspect(missing.Id).ExitCode, 127);
  w.setNext(new ExecStartError('open executable: permission denied'));
  const denied = w.execs.create('c1', { Cmd: ['/etc/passwd'] });
  await w.execs.start(denied.Id, { detach: false });
  assert.equal(w.execs.inspect(denied.Id).ExitCode, 126);
  assert.deepEqual(w.events.filter((e) => e.startsWith('exec_die')), ['exec_die 127', 'exec_die 126']);
});

test('a paused or stopped container refuses exec', (t) => {
  const w = world(t);
  (w.c.state as { status: string }).status = 'paused';
  assert.throws(() => w.execs.create('c1', { Cmd: ['true'] }), /is paused, unpause the container before exec/);
  (w.c.state as { status: string }).status = 'exited';
  assert.throws(() => w.execs.create('c1', { Cmd: ['true'] }), /is not running/);
  assert.deepEqual(w.runs, []);
});

test('pipe output ends at the exit (after a grace) though a child of the process still holds the pipe', async () => {
  const stdout = new PassThrough();
  let exit!: () => void;
  const exited = new Promise<void>((r) => { exit = r; });
  const out = collect(pipeOutput({ stdout, stderr: null }, exited, { graceMs: 20 }));
  stdout.write('before exit\n');
  exit();
  assert.deepEqual(await out, ['stdout:before exit\n']);
  assert.equal(stdout.destroyed, true);
});

test('pipe output of a process whose pipes ended before it was asked for ends at once', async () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  for (const s of [stdout, stderr]) { s.resume(); s.end(); await once(s, 'end'); }
  assert.deepEqual(await collect(pipeOutput({ stdout, stderr }, Promise.resolve(), { graceMs: 60_000 })), []);
});

test('pipe output that closes before the exit is recorded ends only after it: the client reads the exit code next', async () => {
  const stdout = new PassThrough();
  let exit!: () => void;
  const exited = new Promise<void>((r) => { exit = r; });
  let ended = false;
  const out = collect(pipeOutput({ stdout, stderr: null }, exited)).then((v) => { ended = true; return v; });
  stdout.end('last words\n');
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(ended, false, 'the stream waits for the exit (docker exec read ExitCode 0 from a process still running)');
  exit();
  assert.deepEqual(await out, ['stdout:last words\n']);
});

test('pipe output is drained to its end once the reader stopped (a client gone): the process never blocks on it', async () => {
  const stdout = new PassThrough({ highWaterMark: 16 });
  const ac = new AbortController();
  const out = pipeOutput({ stdout, stderr: null }, new Promise(() => undefined), { signal: ac.signal });
  stdout.write('a');
  const first = await out.next();
  assert.equal(first.value?.data.toString(), 'a');
  ac.abort();
  assert.equal((await out.next()).done, true);
  // Far more than the pipe and read-ahead hold: every write is taken.
  for (let i = 0; i < 1000; i++) assert.equal(stdout.write(Buffer.alloc(64)), true, `write ${i} waited`);
});
