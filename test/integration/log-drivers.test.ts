// The forwarding log drivers against real receivers on loopback: Debian's rsyslogd for syslog, strict test receivers
// for the fluentd forward protocol and GELF. Lines arrive with their tag, `docker logs` still shows them, a receiver
// killed and restarted mid-stream loses nothing unseen, a destination that is down never holds the container up,
// a full buffer is counted as dropped, and a restarted berthd resumes where it stopped. Bad input is a clear 400.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon } from '../helpers/daemon';
import { sleep, until } from '../helpers/wait';
import { Rsyslog, StrictReceiver, freePort, receivedRecords } from '../helpers/log-receiver-procs';
import type { ForwardRecord, GelfRecord } from '../helpers/log-receivers';

interface Shipping { Driver: string; Destination: string; Connected: boolean; Delivered: number; Dropped: number; Buffered: number; LastError: string }

/** A container that writes `n` numbered lines, one every ~10 ms. */
const numbered = (n: number, prefix = 'line') => ['sh', '-c', `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); echo ${prefix}-$i; usleep 10000; done`];

/** The numbers in 1..n of which no line arrived. */
function missing(texts: string[], n: number, prefix = 'line'): number[] {
  const got = new Set(texts);
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (!got.has(`${prefix}-${i}`)) out.push(i);
  return out;
}

test('log drivers deliver to real receivers and survive their restarts', { timeout: 400_000 }, async (t) => {
  const d = new TestDaemon('logs');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const out = (args: string[]) => d.dockerOk(args).trim();
  const shipping = (id: string): Shipping => JSON.parse(out(['inspect', '-f', '{{json .State.LogShipping}}', id])) as Shipping;
  const explain = (what: string) => `${what}\n${d.logTail(15)}`;
  /** Waits until the shipper has nothing left in hand (everything delivered or dropped). */
  const settled = (id: string) => until(() => { const s = shipping(id); return s.Buffered === 0 && s; }, `shipping of ${id} to settle`, 150);

  await t.test('syslog: rsyslogd gets the lines over UDP, TCP, a unix datagram and a unix stream socket', async () => {
    const rs = new Rsyslog(path.join(d.base, 'rsyslog'), await freePort(), await freePort());
    t.after(() => rs.stop());
    await rs.start();
    const cases: [string, string[]][] = [
      ['udp', ['--log-opt', `syslog-address=udp://127.0.0.1:${rs.udpPort}`]],
      ['tcp', ['--log-opt', `syslog-address=tcp://127.0.0.1:${rs.tcpPort}`, '--log-opt', 'syslog-format=rfc5424micro', '--log-opt', 'syslog-facility=local3']],
      ['unixgram', ['--log-opt', `syslog-address=unixgram://${rs.dgramSocket}`, '--log-opt', 'syslog-format=rfc3164']],
      ['unix', ['--log-opt', `syslog-address=unix://${rs.streamSocket}`, '--log-opt', 'syslog-format=rfc5424']],
    ];
    for (const [proto, opts] of cases) {
      const id = out(['run', '-d', '--name', `sl-${proto}`, '--log-driver', 'syslog', ...opts, '--log-opt', 'tag=t-{{.Name}}', 'busybox', 'sh', '-c', `echo out-${proto}; echo err-${proto} >&2`]);
      out(['wait', id]);
      const lines = await until(() => {
        const l = rs.lines().filter((x) => x.endsWith(`out-${proto}`) || x.endsWith(`err-${proto}`));
        return l.length === 2 && l;
      }, explain(`rsyslog to get sl-${proto}'s lines: ${rs.lines().join('\n')}`));
      const [o, e] = [lines.find((x) => x.endsWith(`out-${proto}`))!, lines.find((x) => x.endsWith(`err-${proto}`))!];
      const [tag, app, msgid, sev, fac] = o.split('|');
      assert.match(tag!, new RegExp(`^t-sl-${proto}`), o);
      assert.equal(sev, 'info', o);
      assert.equal(e.split('|')[3], 'err', e);
      if (proto === 'tcp') assert.deepEqual([app, msgid, fac], [`t-sl-${proto}`, `t-sl-${proto}`, 'local3'], o);
      if (proto === 'unix') assert.deepEqual([app, msgid], [`t-sl-${proto}`, `t-sl-${proto}`], o);
      if (proto === 'udp') assert.equal(fac, 'daemon', o);
      // docker logs reads the local copy, whatever the driver
      const logs = d.docker(['logs', id]);
      assert.equal(logs.stdout, `out-${proto}\n`);
      assert.equal(logs.stderr, `err-${proto}\n`);
    }

    // rsyslogd stopped and started again while a container writes over TCP: every line arrives or is counted dropped.
    const id = out(['run', '-d', '--log-driver', 'syslog', '--log-opt', `syslog-address=tcp://127.0.0.1:${rs.tcpPort}`, '--log-opt', 'tag=restart', 'busybox', ...numbered(300, 'sl')]);
    await sleep(1000);
    await rs.stop();
    await sleep(800);
    await rs.start();
    out(['wait', id]);
    const s = await settled(id);
    const texts = rs.lines().filter((l) => l.startsWith('restart')).map((l) => l.split('|')[5]!.trim());
    const lost = missing(texts, 300, 'sl');
    assert.ok(lost.length <= s.Dropped, explain(`lines lost unseen over TCP syslog: ${lost.join(',')} (dropped ${s.Dropped})`));
    assert.ok(texts.includes('sl-300'), 'lines after the restart arrive');
    assert.match(fs.readFileSync(d.logFile, 'utf8'), /log shipping for [0-9a-f]{12}: syslog tcp:\/\/127\.0\.0\.1:\d+ reachable again/);
  });

  for (const kind of ['fluentd', 'gelf-udp', 'gelf-tcp'] as const) {
    await t.test(`${kind}: lines arrive with the tag and extras, and a receiver killed mid-stream loses none unseen`, async () => {
      const port = await freePort();
      const file = path.join(d.base, `${kind}.jsonl`);
      const rx = new StrictReceiver(kind, port, file);
      t.after(() => rx.kill());
      await rx.start();
      const driverOpts = kind === 'fluentd'
        ? ['--log-driver', 'fluentd', '--log-opt', `fluentd-address=127.0.0.1:${port}`, '--log-opt', 'fluentd-sub-second-precision=true']
        : ['--log-driver', 'gelf', '--log-opt', `gelf-address=${kind === 'gelf-udp' ? 'udp' : 'tcp'}://127.0.0.1:${port}`,
          ...(kind === 'gelf-udp' ? ['--log-opt', 'gelf-compression-type=zlib'] : [])];
      const textOf = (r: ForwardRecord | GelfRecord) => (kind === 'fluentd' ? (r as ForwardRecord).record.log! : String((r as GelfRecord).short_message));
      // A long line too: GELF over UDP chunks it, the forward protocol carries it whole.
      const long = 'x'.repeat(20_000);
      const first = out(['run', '-d', '--name', `first-${kind}`, ...driverOpts, '--log-opt', 'tag=app.{{.Name}}', '--log-opt', 'labels=team', '--log-opt', 'env=STAGE',
        '--label', 'team=blue', '-e', 'STAGE=prod', 'busybox', 'sh', '-c', `echo hello; echo oops >&2; printf '%s\\n' ${long}`]);
      out(['wait', first]);
      const recs = await until(() => { const r = receivedRecords<ForwardRecord | GelfRecord>(file); return r.length >= 3 && r; }, explain(`${kind} receiver to get 3 lines (stderr: ${rx.stderr})`));
      const texts0 = recs.map(textOf);
      assert.deepEqual(texts0.map((x) => (x === long ? 'LONG' : x)).sort(), ['LONG', 'hello', 'oops'], `received ${texts0.map((x) => `${x.slice(0, 8)}… (${x.length})`).join(', ')}`);
      if (kind === 'fluentd') {
        const r = recs[0] as ForwardRecord;
        assert.equal(r.tag, `app.first-${kind}`);
        assert.equal(r.record.container_id, first);
        assert.equal(r.record.container_name, `/first-${kind}`);
        assert.deepEqual([r.record.team, r.record.STAGE], ['blue', 'prod']);
        assert.ok(Number(BigInt(r.timeNano) % 1_000_000_000n) > 0 || recs.some((x) => Number(BigInt((x as ForwardRecord).timeNano) % 1_000_000_000n) > 0), 'sub-second EventTime');
        assert.deepEqual(recs.map((x) => (x as ForwardRecord).record.source).sort(), ['stderr', 'stdout', 'stdout']);
      } else {
        const r = recs.find((x) => textOf(x) === 'oops') as GelfRecord;
        assert.equal(r._tag, `app.first-${kind}`);
        assert.equal(r._container_id, first);
        assert.equal(r.level, 3);
        assert.deepEqual([r._team, r._STAGE], ['blue', 'prod']);
      }
      assert.ok(d.docker(['logs', first]).stdout === `hello\n${long}\n`, 'docker logs shows the lines');

      fs.rmSync(file, { force: true });
      const id = out(['run', '-d', ...driverOpts, 'busybox', ...numbered(300)]);
      await sleep(1000);
      await rx.kill();
      await sleep(800);
      await rx.start();
      out(['wait', id]);
      const s = await settled(id);
      await sleep(300);
      const texts = receivedRecords<ForwardRecord | GelfRecord>(file).map(textOf);
      const lost = missing(texts, 300);
      assert.ok(lost.length <= s.Dropped, explain(`${kind}: lines lost unseen: ${lost.join(',')} (dropped ${s.Dropped}); receiver: ${rx.stderr}`));
      assert.ok(texts.includes('line-300'), 'lines after the restart arrive');
      assert.equal(s.Delivered + s.Dropped >= 300, true, JSON.stringify(s));
      assert.equal(d.docker(['logs', id]).stdout.split('\n').filter(Boolean).length, 300);
    });
  }

  await t.test('a destination that is down never holds the container up; a full buffer is counted as dropped', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = d.docker(['run', '--name', 'down', '--log-driver', 'fluentd', '--log-opt', `fluentd-address=127.0.0.1:${port}`, 'busybox', 'sh', '-c', 'echo a; echo b']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a\nb\n');
    assert.ok(Date.now() - t0 < 10_000, `docker run took ${Date.now() - t0} ms`);
    const s = await until(() => { const x = shipping('down'); return x.Buffered === 2 && x.LastError && x; }, explain('the shipper to hold 2 lines'));
    assert.equal(s.Connected, false);
    assert.match(s.LastError, /ECONNREFUSED/);
    assert.equal(d.docker(['logs', 'down']).stdout, 'a\nb\n');

    // A bound of 1 KB: 200 lines of ~50 bytes cannot all wait; the oldest are dropped, counted, and said in the log.
    const id = out(['run', '-d', '--log-driver', 'gelf', '--log-opt', `gelf-address=tcp://127.0.0.1:${port}`, '--log-opt', 'mode=non-blocking', '--log-opt', 'max-buffer-size=1k',
      'busybox', 'sh', '-c', 'i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo "a line of about fifty bytes, number $i"; done']);
    out(['wait', id]);
    const full = await until(() => { const x = shipping(id); return x.Dropped > 0 && x.Dropped + x.Buffered === 200 && x; }, explain('drops to be counted'));
    assert.ok(full.Buffered > 0 && full.Buffered < 200, JSON.stringify(full));
    assert.match(fs.readFileSync(d.logFile, 'utf8'), new RegExp(`log shipping for ${id.slice(0, 12)}: buffer full \\(1024 bytes\\) while gelf tcp://127\\.0\\.0\\.1:${port} is not connected`));
    // The receiver comes: what was held arrives, the dropped stay counted.
    const file = path.join(d.base, 'late.jsonl');
    const rx = new StrictReceiver('gelf-tcp', port, file);
    t.after(() => rx.kill());
    await rx.start();
    const after = await settled(id);
    assert.equal(after.Dropped, full.Dropped);
    await until(() => receivedRecords(file).length >= full.Buffered, 'the held lines to arrive');
    const texts = receivedRecords<GelfRecord>(file).map((x) => String(x.short_message));
    assert.ok(texts.includes('a line of about fifty bytes, number 200'));
  });

  await t.test('a restarted berthd resumes shipping where it stopped, without sending the log again', async () => {
    const port = await freePort();
    const file = path.join(d.base, 'resume.jsonl');
    const rx = new StrictReceiver('fluentd', port, file);
    t.after(() => rx.kill());
    await rx.start();
    const id = out(['run', '-d', '--log-driver', 'fluentd', '--log-opt', `fluentd-address=127.0.0.1:${port}`, 'busybox', ...numbered(400)]);
    await sleep(1500);
    await d.stop();
    await sleep(1000);
    await d.start();
    out(['wait', id]);
    await settled(id);
    const texts = receivedRecords<ForwardRecord>(file).map((r) => r.record.log!);
    assert.deepEqual(missing(texts, 400), [], explain('every line after the restart'));
    // At most the last moment before the stop is sent again, never the whole log.
    assert.ok(texts.length < 400 + 150, `received ${texts.length} lines for 400`);
  });

  await t.test('bad log drivers and options are a 400 naming the problem', () => {
    const create = (LogConfig: unknown) => d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { LogConfig } });
    const cases: [unknown, RegExp][] = [
      [{ Type: 'splunkish' }, /logger: no log driver named 'splunkish' is registered/],
      [{ Type: 'syslog', Config: { 'syslog-adress': 'udp://127.0.0.1:514' } }, /unknown log opt 'syslog-adress' for syslog log driver/],
      [{ Type: 'syslog', Config: { 'syslog-address': 'http://127.0.0.1' } }, /unsupported scheme: 'http'/],
      [{ Type: 'syslog', Config: { 'syslog-address': 'unixgram:///no/such.sock' } }, /stat \/no\/such.sock: no such file or directory/],
      [{ Type: 'syslog', Config: { 'syslog-address': 'udp://127.0.0.1:514', 'syslog-facility': 'nope' } }, /invalid syslog facility/],
      [{ Type: 'gelf', Config: {} }, /gelf-address is a required parameter/],
      [{ Type: 'gelf', Config: { 'gelf-address': 'http://h:1' } }, /gelf: endpoint needs to be TCP or UDP/],
      [{ Type: 'gelf', Config: { 'gelf-address': 'udp://h:1', 'gelf-compression-type': 'lz4' } }, /unknown value "lz4" for log opt "gelf-compression-type"/],
      [{ Type: 'fluentd', Config: { 'fluentd-address': 'udp://h:1' } }, /unsupported scheme: 'udp'/],
      [{ Type: 'fluentd', Config: { 'fluentd-buffer-limit': 'lots' } }, /fluentd-buffer-limit: strconv.ParseInt/],
      [{ Type: 'fluentd', Config: { tag: '{{.Nope}}' } }, /can't evaluate field Nope/],
      [{ Type: 'journald' }, /journald is not enabled on this host/],
      [{ Type: 'local', Config: { 'syslog-address': 'x' } }, /unknown log opt 'syslog-address' for log driver local/],
    ];
    for (const [lc, re] of cases) {
      const r = create(lc);
      assert.equal(r.status, 400, `${JSON.stringify(lc)}: ${r.body}`);
      assert.match((JSON.parse(r.body) as { message: string }).message, re, JSON.stringify(lc));
    }
    assert.match(d.dockerFail(['run', '--rm', '--log-driver', 'gelf', '--log-opt', 'gelf-address=udp://nohost', 'busybox', 'true']), /gelf: please provide gelf-address as proto:\/\/address:port/);
  });

  await t.test('local keeps the log for docker logs, with its own options', () => {
    const id = out(['run', '-d', '--log-driver', 'local', '--log-opt', 'max-size=1m', 'busybox', 'echo', 'kept']);
    out(['wait', id]);
    assert.equal(d.docker(['logs', id]).stdout, 'kept\n');
    assert.equal(out(['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', id]), 'local');
  });
});

test('daemon.json log-driver and log-opts are the defaults of containers that name none', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const base = fs.mkdtempSync('/tmp/berth-logcfg-');
  const conf = path.join(base, 'daemon.json');
  fs.writeFileSync(conf, JSON.stringify({ 'log-driver': 'fluentd', 'log-opts': { 'fluentd-address': `127.0.0.1:${port}`, tag: 'dflt.{{.Name}}' } }));
  const d = new TestDaemon('logcfg', { args: ['--config-file', conf] });
  t.after(async () => { await d.cleanup(); fs.rmSync(base, { recursive: true, force: true }); });
  await d.startWithBusybox();
  const file = path.join(base, 'rx.jsonl');
  const rx = new StrictReceiver('fluentd', port, file);
  t.after(() => rx.kill());
  await rx.start();
  d.dockerOk(['run', '--name', 'dflt', 'busybox', 'echo', 'by default']);
  const recs = await until(() => { const r = receivedRecords<ForwardRecord>(file); return r.length && r; }, `the default driver to ship\n${d.logTail()}`);
  assert.equal(recs[0]!.tag, 'dflt.dflt');
  assert.equal(recs[0]!.record.log, 'by default');
  assert.equal(d.dockerOk(['inspect', '-f', '{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config "tag"}}', 'dflt']).trim(), 'fluentd dflt.{{.Name}}');
  // A container removed at its exit (--rm) still gets its last lines out.
  d.dockerOk(['run', '--rm', 'busybox', 'echo', 'removed at exit']);
  await until(() => receivedRecords<ForwardRecord>(file).some((r) => r.record.log === 'removed at exit'), `the --rm container's line\n${d.logTail()}`);
  // A container naming another driver gets none of the daemon's options.
  assert.equal(d.dockerOk(['run', '--rm', '--log-driver', 'json-file', 'busybox', 'echo', 'local only']), 'local only\n');

  // A default no container could use stops the daemon at start, with the reason.
  fs.writeFileSync(conf, JSON.stringify({ 'log-driver': 'gelf' }));
  const bad = new TestDaemon('logbad', { args: ['--config-file', conf] });
  t.after(() => bad.cleanup());
  await assert.rejects(bad.start(), /log-driver\/log-opts: gelf-address is a required parameter/);
});
