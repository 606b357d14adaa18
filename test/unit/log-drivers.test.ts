// Log driver configuration as dockerd checks it at create: every driver's options and values, daemon.json's
// defaults merged in, the journal and unix sockets looked for on the host (a fake here).
import test from 'node:test';
import assert from 'node:assert/strict';
import { checkLogConfig, conmonLogCap, isForwarding, shippingBufferBytes } from '../../src/engine/log-drivers';
import { destinationOf, type LogHostProbe } from '../../src/engine/log-destinations';

const sockets = new Set(['/run/syslog.sock', '/run/systemd/journal/socket']);
const noJournal: LogHostProbe = { exists: () => false, isSocket: () => false, readFile: () => { throw new Error('open: no such file'); } };
const withSockets: LogHostProbe = { exists: (p) => sockets.has(p), isSocket: (p) => sockets.has(p), readFile: () => Buffer.from('pem') };
const check = (lc: unknown, probe = noJournal) => checkLogConfig(lc, undefined, probe);

test('every driver is known, and an unknown one is refused with dockerd\'s words', () => {
  for (const Type of ['json-file', 'local', 'none']) assert.equal(check({ Type }).Type, Type);
  assert.equal(check({ Type: 'syslog', Config: { 'syslog-address': 'udp://10.0.0.1' } }).Type, 'syslog');
  assert.equal(check({ Type: 'fluentd' }).Type, 'fluentd');
  assert.equal(check({ Type: 'gelf', Config: { 'gelf-address': 'udp://g:12201' } }).Type, 'gelf');
  assert.throws(() => check({ Type: 'awslogs' }), /logger: no log driver named 'awslogs' is registered/);
  assert.ok(isForwarding({ Type: 'gelf', Config: {} }) && !isForwarding({ Type: 'local', Config: {} }));
});

test('each forwarding driver checks its options and their values at create', () => {
  const bad: [unknown, RegExp][] = [
    [{ Type: 'syslog', Config: { 'max-size': '1m' } }, /unknown log opt 'max-size' for syslog log driver/],
    [{ Type: 'syslog', Config: { 'syslog-address': 'tcp://h:0' } }, /syslog-address: invalid port "0"/],
    [{ Type: 'syslog', Config: { 'syslog-address': 'tcp+tls://h', 'syslog-tls-ca-cert': '/no/ca.pem' } }, /syslog-tls-ca-cert: open: no such file/],
    [{ Type: 'syslog' }, /no local syslog socket/],
    [{ Type: 'syslog', Config: { 'syslog-address': 'udp://h', 'syslog-format': 'rfc5425' } }, /Invalid syslog format/],
    [{ Type: 'gelf', Config: { 'gelf-address': 'udp://g:1', 'gelf-compression-level': '10' } }, /unknown value "10" for log opt "gelf-compression-level"/],
    [{ Type: 'gelf', Config: { 'gelf-address': 'udp://g:1', 'gelf-tcp-max-reconnect': '3' } }, /gelf-tcp-max-reconnect is only valid for TCP/],
    [{ Type: 'gelf', Config: { 'gelf-address': 'tcp://g:1', 'gelf-tcp-reconnect-delay': '-1' } }, /must be a positive integer/],
    [{ Type: 'gelf', Config: { 'gelf-address': 'udp://g:1', 'gelf-udp': 'x' } }, /unknown log opt 'gelf-udp' for gelf log driver/],
    [{ Type: 'fluentd', Config: { 'fluentd-address': 'unix://' } }, /path is empty/],
    [{ Type: 'fluentd', Config: { 'fluentd-address': 'tcp://h:1/x' } }, /should not contain a path element/],
    [{ Type: 'fluentd', Config: { 'fluentd-retry-wait': '1 second' } }, /fluentd-retry-wait: time: /],
    [{ Type: 'fluentd', Config: { 'fluentd-async-reconnect-interval': '20s' } }, /invalid value for fluentd-async-reconnect-interval/],
    [{ Type: 'fluentd', Config: { 'labels-regex': '[' } }, /error parsing regexp in log opt labels-regex/],
    [{ Type: 'journald' }, /journald is not enabled on this host/],
    [{ Type: 'fluentd', Config: { 'max-buffer-size': '1m' } }, /max-buffer-size option is only supported with 'mode=non-blocking'/],
  ];
  for (const [lc, re] of bad) assert.throws(() => check(lc), re, JSON.stringify(lc));
  // With the host's sockets there: the local syslog socket... is only Docker's /dev/log family; the journal's is found.
  assert.equal(check({ Type: 'journald', Config: { tag: '{{.Name}}' } }, withSockets).Type, 'journald');
  assert.equal(check({ Type: 'syslog', Config: { 'syslog-address': 'unix:///run/syslog.sock' } }, withSockets).Type, 'syslog');
  assert.equal(check({ Type: 'syslog', Config: { 'syslog-address': 'tcp+tls://h:6514', 'syslog-tls-skip-verify': 'true' } }, withSockets).Type, 'syslog');
});

test('daemon.json log-driver and log-opts are the defaults, merged only into containers of that driver', () => {
  const defaults = { Type: 'fluentd', Config: { 'fluentd-address': 'f:24224', tag: 'd' } };
  assert.deepEqual(checkLogConfig(undefined, defaults, noJournal), { Type: 'fluentd', Config: { 'fluentd-address': 'f:24224', tag: 'd' } });
  assert.deepEqual(checkLogConfig({ Type: '', Config: { tag: 'mine' } }, defaults, noJournal), { Type: 'fluentd', Config: { tag: 'mine', 'fluentd-address': 'f:24224' } });
  assert.deepEqual(checkLogConfig({ Type: 'json-file' }, defaults, noJournal), { Type: 'json-file', Config: {} });
});

test('the local driver keeps its own defaults on disk; forwarding drivers keep the daemon\'s cap', () => {
  assert.equal(conmonLogCap({ Type: 'local', Config: {} }, 7), 100_000_000);
  assert.equal(conmonLogCap({ Type: 'local', Config: { 'max-size': '1m', 'max-file': '2' } }, 7), 2_000_000);
  assert.equal(conmonLogCap({ Type: 'syslog', Config: {} }, 7), 7);
  assert.throws(() => check({ Type: 'local', Config: { tag: 'x' } }), /unknown log opt 'tag' for log driver local/);
  assert.equal(shippingBufferBytes({ Type: 'gelf', Config: {} }), 1 << 20);
  assert.equal(shippingBufferBytes({ Type: 'gelf', Config: { mode: 'non-blocking', 'max-buffer-size': '4k' } }), 4096);
});

test('destinations encode a line in the driver\'s format for its endpoint', () => {
  const info = { id: 'f'.repeat(64), name: '/app', imageName: 'busybox', imageId: 'sha256:1', created: '', command: 'sh', daemonName: 'berth', labels: {}, env: [] };
  const line = { timeNano: 1_700_000_000_000_000_000n, stream: 'stderr' as const, text: 'boom' };
  const syslog = destinationOf('syslog', { 'syslog-address': 'tcp+tls://h', 'syslog-format': 'rfc5424', tag: '{{.Name}}' }, info, withSockets);
  assert.deepEqual(syslog.endpoint, { kind: 'tcp', host: 'h', port: 514, tls: { ca: undefined, cert: undefined, key: undefined, skipVerify: false } });
  assert.match(syslog.encode(line)[0]!.toString(), /^\d+ <27>1 \S+ \S+ app \d+ app - boom\n$/);
  const gelf = destinationOf('gelf', { 'gelf-address': 'tcp://g:12201' }, info, noJournal);
  const frame = gelf.encode(line)[0]!;
  assert.equal(frame[frame.length - 1], 0);
  assert.equal(JSON.parse(frame.subarray(0, -1).toString())._container_name, 'app');
  assert.deepEqual(destinationOf('fluentd', {}, info, noJournal).endpoint, { kind: 'tcp', host: '127.0.0.1', port: 24224 });
  assert.deepEqual(destinationOf('fluentd', { 'fluentd-address': 'unix:///run/f.sock' }, info, noJournal).endpoint, { kind: 'unix', path: '/run/f.sock' });
  const journal = destinationOf('journald', {}, info, withSockets);
  assert.deepEqual(journal.endpoint, { kind: 'unixgram', path: '/run/systemd/journal/socket' });
  assert.match(journal.encode(line)[0]!.toString(), /^MESSAGE=boom\nPRIORITY=3\nCONTAINER_ID=ffffffffffff\n/);
});
