// The log links against real sockets on loopback: TLS with a certificate made by openssl for the test (RFC 5425
// octet-counted syslog over it, the receiver checking the frames), a TCP peer that goes away and a UDP port nobody
// listens on both reported as broken, unix stream sockets.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { dialLogEndpoint } from '../../src/network/log-links';
import { destinationOf, realLogHostProbe } from '../../src/engine/log-destinations';
import { freePort } from '../helpers/log-receiver-procs';
import { until } from '../helpers/wait';

const INFO = { id: 'a'.repeat(64), name: '/tls', imageName: 'busybox', imageId: 'sha256:1', created: '', command: 'sh', daemonName: 'berth', labels: {}, env: [] };

/** Splits RFC 5425 frames ("LEN SP MSG"), refusing anything else. */
function octetFrames(buf: Buffer): string[] {
  const out: string[] = [];
  let rest = buf;
  while (rest.length) {
    const sp = rest.indexOf(0x20);
    const len = Number(rest.subarray(0, sp).toString());
    assert.ok(sp > 0 && Number.isInteger(len) && len > 0, `not an octet-counted frame: ${rest.subarray(0, 20).toString()}`);
    out.push(rest.subarray(sp + 1, sp + 1 + len).toString());
    rest = rest.subarray(sp + 1 + len);
  }
  return out;
}

test('syslog over TLS: RFC 5424 frames, octet-counted, to a server whose certificate the CA option verifies', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  let got = Buffer.alloc(0);
  const server = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (s) => s.on('data', (d: Buffer) => { got = Buffer.concat([got, d]); }));
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  t.after(() => server.close());
  const dest = destinationOf('syslog', { 'syslog-address': `tcp+tls://127.0.0.1:${port}`, 'syslog-tls-ca-cert': cert, 'syslog-format': 'rfc5424micro', tag: '{{.Name}}' }, INFO, realLogHostProbe);
  const link = await dialLogEndpoint(dest.endpoint);
  await link.send([dest.encode({ timeNano: 1_700_000_000_000_001_000n, stream: 'stdout', text: 'one' }), dest.encode({ timeNano: 1_700_000_000_000_002_000n, stream: 'stderr', text: 'two' })]);
  await until(() => octetFrames(got).length === 2, 'two frames over TLS');
  const [a, b] = octetFrames(got);
  assert.match(a!, /^<30>1 \S+\.000001\S* \S+ tls \d+ tls - one\n$/);
  assert.match(b!, /^<27>1 /);
  link.close();
  // Without the CA the server's certificate is refused; with syslog-tls-skip-verify it is taken.
  const noCa = destinationOf('syslog', { 'syslog-address': `tcp+tls://127.0.0.1:${port}` }, INFO, realLogHostProbe);
  await assert.rejects(dialLogEndpoint(noCa.endpoint), /self[- ]signed/i);
  const skip = destinationOf('syslog', { 'syslog-address': `tcp+tls://127.0.0.1:${port}`, 'syslog-tls-skip-verify': '' }, INFO, realLogHostProbe);
  (await dialLogEndpoint(skip.endpoint)).close();
});

test('a TCP receiver that goes away and a UDP port nobody listens on break their links; unix stream sockets carry frames', async (t) => {
  const port = await freePort();
  const conns: net.Socket[] = [];
  const server = net.createServer((s) => conns.push(s));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const tcp = await dialLogEndpoint({ kind: 'tcp', host: '127.0.0.1', port });
  await until(() => conns.length === 1, 'the connection');
  conns[0]!.destroy();
  server.close();
  assert.match((await tcp.broken).message, /closed|ECONNRESET/);
  await assert.rejects(tcp.send([[Buffer.from('x\n')]]));
  await assert.rejects(dialLogEndpoint({ kind: 'tcp', host: '127.0.0.1', port }), /ECONNREFUSED/);

  const udp = await dialLogEndpoint({ kind: 'udp', host: '127.0.0.1', port: await freePort() });
  await udp.send([[Buffer.from('nobody')]]);
  assert.match((await udp.broken).message, /ECONNREFUSED/);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-unix-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 's.sock');
  let got = '';
  const us = net.createServer((s) => s.on('data', (d: Buffer) => { got += d.toString(); }));
  await new Promise<void>((r) => us.listen(sock, r));
  t.after(() => us.close());
  const unix = await dialLogEndpoint({ kind: 'unix', path: sock });
  await unix.send([[Buffer.from('a\n')], [Buffer.from('b'), Buffer.from('\n')]]);
  await until(() => got === 'a\nb\n', 'the frames over the unix socket');
  unix.close();
});
