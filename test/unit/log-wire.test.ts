// The log drivers' wire formats: syslog (unix, RFC 3164, RFC 5424, with micro), GELF (compression, chunking, TCP
// frames), the fluentd forward protocol, the journal's native datagrams, and the tag template and extras. Decoded
// with the strict decoders the integration tests' receivers use, and msgpack's own decoder.
import test from 'node:test';
import assert from 'node:assert/strict';
import { decode, ExtData } from '@msgpack/msgpack';
import { formatSyslog, frameSyslog, parseFacility, parseSyslogFormat } from '../../src/wire/syslog';
import { compressGelf, gelfDatagrams, gelfMessage, gelfTcpFrame, GELF_CHUNK_SIZE } from '../../src/wire/gelf';
import { encodeForwardMessage } from '../../src/wire/fluentd-forward';
import { encodeJournalEntry, journalFieldName } from '../../src/wire/journald';
import { expandTag, extraAttributes, type LogContainerInfo } from '../../src/wire/log-tag';
import { GelfChunks, checkForwardMessage, decodeGelfPayload } from '../helpers/log-receivers';

const INFO: LogContainerInfo = {
  id: 'c0ffee'.padEnd(64, '0'), name: '/web', imageName: 'busybox:latest', imageId: 'sha256:' + 'ab'.repeat(32), created: '2026-01-01T00:00:00Z',
  command: 'sh -c x', daemonName: 'berth', labels: { team: 'blue', 'com.example.tier': 'front', other: 'x' }, env: ['STAGE=prod', 'SECRET=s', 'PATH=/bin'],
};

test('syslog: each format as srslog writes it, RFC 5424 with the tag as APP-NAME and MSGID', () => {
  process.env.TZ = 'UTC';
  const m = { facility: parseFacility('local3'), severity: 3, timeNano: 1_700_000_000_123_456_789n, hostname: 'h1', tag: 'web', pid: 42, text: 'hello' };
  assert.equal(formatSyslog('', m), '<155>Nov 14 22:13:20 web[42]: hello\n');
  assert.equal(formatSyslog('rfc3164', m), '<155>Nov 14 22:13:20 h1 web[42]: hello\n');
  assert.equal(formatSyslog('rfc5424', m), '<155>1 2023-11-14T22:13:20Z h1 web 42 web - hello\n');
  assert.equal(formatSyslog('rfc5424micro', m), '<155>1 2023-11-14T22:13:20.123456Z h1 web 42 web - hello\n');
  assert.equal(formatSyslog('', { ...m, timeNano: 1_700_000_000_000_000_000n - 86_400_000_000_000n * 10n }), '<155>Nov  4 22:13:20 web[42]: hello\n');
  // RFC 5425 octet counting (TLS), the bare message otherwise
  assert.equal(frameSyslog('<14>1 x\n', true).toString(), '8 <14>1 x\n');
  assert.equal(frameSyslog('<14>1 x\n', false).toString(), '<14>1 x\n');
  assert.equal(parseFacility(undefined), 3);
  assert.equal(parseFacility('17'), 17);
  assert.throws(() => parseFacility('24'), /invalid syslog facility/);
  assert.throws(() => parseSyslogFormat('rfc9999'), /Invalid syslog format/);
});

test('gelf: a message decodes strictly after gzip, zlib or none, and chunks reassemble in any order', () => {
  const msg = gelfMessage({ host: 'h', shortMessage: 'hi', timestamp: 1.5, level: 6, extra: { tag: 't', id: 'forbidden', container_id: 'c' } });
  const parsed = JSON.parse(msg.toString()) as Record<string, unknown>;
  assert.deepEqual(parsed, { version: '1.1', host: 'h', short_message: 'hi', timestamp: 1.5, level: 6, _tag: 't', _container_id: 'c' });
  for (const type of ['gzip', 'zlib', 'none'] as const) {
    const payload = compressGelf(msg, type, -1);
    assert.deepEqual(decodeGelfPayload(payload, true), parsed, type);
  }
  // 40 KB of random text does not compress below a chunk: it goes in chunks, which reassemble whichever comes first.
  const big = gelfMessage({ host: 'h', shortMessage: Array.from({ length: 4000 }, (_, i) => (i * 7919 % 1000).toString(36)).join(''), timestamp: 1, level: 3, extra: {} });
  const id = Buffer.from('0123456789abcdef', 'hex');
  const chunks = gelfDatagrams(big, id)!;
  assert.ok(chunks.length > 1);
  for (const c of chunks) {
    assert.ok(c.length <= GELF_CHUNK_SIZE);
    assert.deepEqual([...c.subarray(0, 2)], [0x1e, 0x0f]);
    assert.deepEqual(c.subarray(2, 10), id);
    assert.equal(c[11], chunks.length);
  }
  const rx = new GelfChunks();
  const order = chunks.map((_, i) => i).reverse();
  const got = order.map((i) => rx.add(chunks[i]!)).filter(Boolean);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], big);
  assert.equal(gelfDatagrams(Buffer.alloc(129 * (GELF_CHUNK_SIZE - 12)), id), undefined, 'over 128 chunks');
  assert.deepEqual([...gelfTcpFrame(msg).subarray(-1)], [0]);
  assert.throws(() => decodeGelfPayload(compressGelf(msg, 'gzip', 1), false), /compressed message over TCP/);
});

test('fluentd forward: [tag, time, record] with an integer time, or an EventTime with sub-second precision', () => {
  const e = { tag: 'docker.web', timeNano: 1_700_000_000_123_456_789n, record: { log: 'hi', source: 'stdout' } };
  const plain = decode(encodeForwardMessage(e, false)) as unknown[];
  assert.deepEqual(plain, ['docker.web', 1_700_000_000, { log: 'hi', source: 'stdout' }]);
  const sub = decode(encodeForwardMessage(e, true)) as unknown[];
  assert.ok(sub[1] instanceof ExtData && sub[1].type === 0);
  assert.deepEqual(checkForwardMessage(sub), { tag: 'docker.web', timeNano: '1700000000123456789', record: { log: 'hi', source: 'stdout' } });
  assert.throws(() => checkForwardMessage(['t', 'now', {}]), /neither an integer nor an EventTime/);
  assert.throws(() => checkForwardMessage(['t', 1, { n: 1 }]), /not a string/);
});

test('journald: KEY=value lines, and the length-prefixed form for a value with a newline', () => {
  const d = encodeJournalEntry([['MESSAGE', 'one'], ['CONTAINER_NAME', 'web'], ['MULTI', 'a\nb']]);
  const expected = Buffer.concat([
    Buffer.from('MESSAGE=one\nCONTAINER_NAME=web\nMULTI\n'), Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('a\nb\n'),
  ]);
  assert.deepEqual(d, expected);
  assert.equal(journalFieldName('com.example-tier'), 'COM_EXAMPLE_TIER');
  assert.equal(journalFieldName('_secret'), 'SECRET');
});

test('tag templates and the labels/env extras, as moby\'s logger.Info offers them', () => {
  assert.equal(expandTag('{{.ID}}', INFO), 'c0ffee000000');
  assert.equal(expandTag('{{.Name}}/{{.ImageName}}/{{.ImageID}}/{{.DaemonName}}', INFO), 'web/busybox:latest/abababababab/berth');
  assert.equal(expandTag('app.{{ .FullID }}', INFO), `app.${INFO.id}`);
  assert.throws(() => expandTag('{{.Nope}}', INFO), /can't evaluate field Nope in type \*logger.Info/);
  assert.throws(() => expandTag('{{.ID', INFO), /unclosed action/);
  assert.throws(() => expandTag('{{printf "x"}}', INFO), /unsupported action/);
  assert.deepEqual(extraAttributes({ labels: 'team,absent', env: 'STAGE' }, INFO), { team: 'blue', STAGE: 'prod' });
  assert.deepEqual(extraAttributes({ 'labels-regex': '^com\\.', 'env-regex': '^S' }, INFO), { 'com.example.tier': 'front', STAGE: 'prod', SECRET: 's' });
  assert.deepEqual(extraAttributes({}, INFO), {});
  assert.throws(() => extraAttributes({ 'env-regex': '(' }, INFO), /error parsing regexp in log opt env-regex/);
});
