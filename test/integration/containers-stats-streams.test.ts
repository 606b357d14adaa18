// Stats streams under abuse: `docker stats` clients SIGKILLed mid-stream, containers removed while streamed, --no-stream
// in a loop, a client that stops reading, host reads failing with EMFILE; berthd keeps answering, leaks no fds, logs
// no uncaught error, and a stream whose container goes away ends.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { TestDaemon, DOCKER, type RunOpts } from '../helpers/daemon';
import { sleep, until } from '../helpers/wait';
import type { StatsSample } from '../helpers/api-types';

const fdCount = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

/** A raw GET /containers/{id}/stats?stream=1: counts the JSON lines it gets; `ended` once the daemon ends it. */
interface RawStream {
  lines: number;
  real: number;
  ended: boolean;
  status: number;
  req: http.ClientRequest;
  res?: http.IncomingMessage;
  close: () => void;
}

function rawStream(sock: string, id: string, { read = true } = {}): RawStream {
  // req and close are set just below.
  const s = { lines: 0, real: 0, ended: false, status: 0 } as RawStream;
  s.req = http.get({ socketPath: sock, path: `/v1.47/containers/${id}/stats?stream=1`, agent: false }, (res) => {
    s.status = res.statusCode ?? 0;
    s.res = res;
    let buf = '';
    res.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const j = JSON.parse(buf.slice(0, nl)) as StatsSample;
        buf = buf.slice(nl + 1);
        s.lines++;
        // A sample read from the cgroup (not the zeroed one of a stopped container).
        if (j.read !== '0001-01-01T00:00:00Z' && j.memory_stats?.usage > 0) s.real++;
      }
    });
    // 'close' comes after a normal end and after an abort (a stream the daemon destroyed) alike.
    res.on('close', () => { s.ended = true; });
    if (!read) res.pause();
  });
  s.req.on('error', () => { s.ended = true; });
  s.close = () => s.req.destroy();
  return s;
}

test('stats streams leave berthd answering, with no fd growth', { timeout: 300_000 }, async (t) => {
  const d = new TestDaemon('stats');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const out = (args: string[], opts?: RunOpts) => ok(args, opts).trim();
  let ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push(out(['run', '-d', '--network', 'none', 'busybox', 'sleep', '3600']));
  for (let i = 0; i < 2; i++) ids.push(out(['run', '-d', 'busybox', 'sleep', '3600']));
  const pid = d.pid!;
  // Warm up (lazily opened files, the first stats of each container), then the baseline.
  ok(['stats', '--no-stream']);
  await sleep(500);
  const baseFds = fdCount(pid);
  const logStart = fs.statSync(d.logFile).size;
  const clients = new Set<StatsCli>();
  type StatsCli = ReturnType<typeof startCli>;
  const startCli = (args: string[]) => {
    const p = Object.assign(spawn(DOCKER, ['stats', ...args], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] }), { output: '', gone: Promise.resolve() as Promise<unknown> });
    p.stdout.on('data', (c) => { p.output += c; });
    p.stderr.on('data', (c) => { p.output += c; });
    p.gone = new Promise((r) => p.on('exit', r));
    clients.add(p);
    return p;
  };
  const killCli = async (p: StatsCli) => { p.kill('SIGKILL'); await p.gone; clients.delete(p); };
  t.after(() => { for (const p of clients) p.kill('SIGKILL'); });
  const alive = () => d.api('GET', '/_ping').status === 200;

  await t.test('clients SIGKILLed mid-stream, several at once, round after round', async () => {
    for (let round = 0; round < 3; round++) {
      const cs = [startCli([]), startCli([]), startCli(['--format', '{{.ID}}', ...ids])];
      // Each shows every container before it is killed: the streams are open and sampling.
      await until(() => cs.every((p) => ids.every((id) => p.output.includes(id.slice(0, 12)))), 'every client to show every container', 300);
      await Promise.all(cs.map(killCli));
    }
    // Raw clients that take one sample and hang up, 30 of them.
    for (let i = 0; i < 30; i++) {
      const s = rawStream(d.sock, ids[i % ids.length]);
      await until(() => s.lines >= 1 || s.ended, 'a first sample', 100);
      assert.equal(s.status, 200);
      s.close();
    }
    assert.ok(alive());
  });

  await t.test('containers removed while streamed: their streams end, the others go on', async () => {
    const all = startCli([]);
    const named = startCli(['--format', '{{.ID}} {{.MemUsage}}', ...ids]);
    const victims = [ids[0], ids[1], ids[12]]; // two on no network, one on the default bridge
    const raws = victims.map((id) => rawStream(d.sock, id));
    const keeper = rawStream(d.sock, ids[5]);
    await until(() => raws.every((s) => s.lines >= 1) && keeper.lines >= 1, 'the raw streams to start', 100);
    // `docker stats <ids>` gives up on a container whose stream ends before its first sample: let both draw first.
    await until(() => [all, named].every((p) => ids.every((id) => p.output.includes(id.slice(0, 12)))), 'both clients to show every container', 300);
    ok(['rm', '-f', ...victims]);
    await until(() => raws.every((s) => s.ended), 'the streams of removed containers to end', 100);
    const before = keeper.lines;
    await until(() => keeper.lines >= before + 2, 'the stream of a remaining container to go on', 100);
    assert.equal(keeper.ended, false);
    assert.equal(all.exitCode, null, `docker stats ended: ${all.output.slice(-300)}`);
    assert.equal(named.exitCode, null, `docker stats <ids> ended: ${named.output.slice(-300)}`);
    // Removed and new containers while `docker stats` (all) follows the events.
    const third = ids[2];
    ok(['rm', '-f', third]);
    const fresh = out(['run', '-d', '--network', 'none', 'busybox', 'sleep', '3600']);
    ids = [...ids.filter((id) => !victims.includes(id) && id !== third), fresh];
    const seen = all.output.length;
    await until(() => all.output.slice(seen).includes(fresh.slice(0, 12)), 'docker stats to show the new container', 300);
    keeper.close();
    await killCli(all);
    await killCli(named);
    assert.ok(alive());
  });

  await t.test('a stopped container\'s stream goes on with zeroed samples, as Docker\'s, and real ones after a start', async () => {
    const id = ids[6];
    const s = rawStream(d.sock, id);
    await until(() => s.real >= 1, 'a first sample', 100);
    ok(['stop', '-t', '0', id]);
    const n = s.lines;
    await until(() => s.lines >= n + 2, 'samples of the stopped container', 100);
    assert.equal(s.ended, false);
    const real = s.real;
    ok(['start', id]);
    await until(() => s.real > real, 'real samples once it runs again', 100);
    s.close();
  });

  await t.test('--no-stream in a loop, beside a stream', async () => {
    const bg = startCli([]);
    for (let i = 0; i < 5; i++) {
      const rows = out(['stats', '--no-stream', '--format', '{{.ID}}']).split('\n');
      assert.equal(rows.length, ids.length);
    }
    await killCli(bg);
  });

  await t.test('a client that stops reading does not stop the others, and goes cleanly', async () => {
    const stalled = [0, 1, 2].map(() => rawStream(d.sock, ids[3], { read: false }));
    const reader = rawStream(d.sock, ids[4]);
    await until(() => reader.lines >= 3, 'a reading client to get samples beside stalled ones', 100);
    assert.ok(alive());
    for (const s of stalled) s.close();
    reader.close();
  });

  await t.test('under fd pressure every stream still gets real samples: host reads are bounded, not one burst per stream', async () => {
    const streams = ids.map((id) => rawStream(d.sock, id));
    try {
      await until(() => streams.every((s) => s.real >= 1), 'every stream to start', 100);
      // Leave berthd 40 spare descriptors (soft limit only, raised again after): enough for a bounded collector,
      // not for 14 streams each reading its cgroup files at the same moment.
      const limit = (soft: number) => spawnSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:20000`], { encoding: 'utf8' });
      assert.equal(limit(fdCount(pid) + 40).status, 0);
      try {
        const counts = streams.map((s) => s.real);
        await sleep(4000);
        assert.equal(streams.filter((s) => s.ended).length, 0, 'a stream was ended under fd pressure');
        const starved = streams.filter((s, i) => s.real < counts[i] + 2).length;
        assert.equal(starved, 0, `${starved} of ${streams.length} streams got under 2 real samples in 4 s`);
      } finally {
        assert.equal(limit(20000).status, 0);
      }
    } finally {
      for (const s of streams) s.close();
    }
    assert.ok(alive());
  });

  await t.test('afterwards: berthd answers, its fds are back, its log has no uncaught error', async () => {
    assert.equal(out(['ps', '-q']).split('\n').length, ids.length);
    await until(() => fdCount(pid) <= baseFds + 2, `berthd's fds back near ${baseFds} (now ${fdCount(pid)})`, 100);
    const log = fs.readFileSync(d.logFile, 'utf8').slice(logStart);
    assert.doesNotMatch(log, /uncaught|unhandled rejection|MaxListenersExceeded|ERR_STREAM_WRITE_AFTER_END|ERR_STREAM_DESTROYED/);
    assert.doesNotMatch(log, /error GET \/v[\d.]+\/containers\/[0-9a-f]+\/stats/, 'a stats request failed');
  });
});
