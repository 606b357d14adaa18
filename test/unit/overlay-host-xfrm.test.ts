// IpXfrmTunnels' pure parts: tunnelsFor gives mirrored SPIs and keys on the two ends of every pair; the `ip -batch`
// lines that make Berth's states and policies exact; `ip xfrm policy` output (captured from iproute2 6.1) and
// `ip xfrm state` output (iproute2's format; this test host's kernel has no ESP to capture one) parsed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseXfrmPolicies, parseXfrmStates, tunnelsFor, xfrmBatch } from '../../src/network/overlay/xfrm-ip';
import { BERTH_XFRM_REQID } from '../../src/network/overlay/xfrm';

const A = '192.168.251.1';
const B = '192.168.251.2';
const C = '192.168.251.3';
const KEYS = [{ generation: 7, key: '11'.repeat(20) }, { generation: 6, key: '22'.repeat(20) }];

test('tunnelsFor: what one end sends with, the other receives with; directions, pairs and generations differ', () => {
  const atA = tunnelsFor(A, [B, C, A], KEYS);
  const atB = tunnelsFor(B, [A, C], KEYS);
  assert.equal(atA.length, 4, 'two remotes (itself left out) × two generations');
  for (const g of [0, 1]) {
    const ab = atA.filter((t) => t.remoteAddr === B)[g]!;
    const ba = atB.filter((t) => t.remoteAddr === A)[g]!;
    assert.deepEqual([ab.spiOut, ab.keyOut, ab.spiIn, ab.keyIn], [ba.spiIn, ba.keyIn, ba.spiOut, ba.keyOut]);
    assert.notEqual(ab.spiOut, ab.spiIn);
    assert.notEqual(ab.keyOut, ab.keyIn);
    assert.match(ab.keyOut, /^[0-9a-f]{40}$/);
    assert.ok(ab.spiOut >= 0x100 && ab.spiOut <= 0xffffffff);
    assert.equal(ab.inboundOnly, g === 1 ? true : undefined, 'older generations are inbound only');
  }
  const [ab7, ab6] = atA.filter((t) => t.remoteAddr === B);
  const ac7 = atA.find((t) => t.remoteAddr === C)!;
  assert.notEqual(ab7!.spiOut, ab6!.spiOut);
  assert.notEqual(ab7!.keyOut, ac7.keyOut, 'one key per pair: GCM nonces never repeat under one key');
  assert.deepEqual(tunnelsFor(A, [B], []), []);
});

test('xfrmBatch: states for the newest key both ways and older ones inbound, then out/in policies', () => {
  const [t7, t6] = tunnelsFor(A, [B], KEYS);
  const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
  const sel = (s: string, d: string) => `sel src ${s} dst ${d} proto udp dport 4790`;
  const aead = (k: string) => `aead rfc4106(gcm(aes)) 0x${k} 128`;
  assert.deepEqual(xfrmBatch([], [], [t7!, t6!], 4790), [
    `xfrm state add src ${A} dst ${B} proto esp spi ${hex(t7!.spiOut)} reqid ${BERTH_XFRM_REQID} mode transport ${aead(t7!.keyOut)} ${sel(A, B)}`,
    `xfrm state add src ${B} dst ${A} proto esp spi ${hex(t7!.spiIn)} reqid ${BERTH_XFRM_REQID} mode transport ${aead(t7!.keyIn)} ${sel(B, A)}`,
    `xfrm state add src ${B} dst ${A} proto esp spi ${hex(t6!.spiIn)} reqid ${BERTH_XFRM_REQID} mode transport ${aead(t6!.keyIn)} ${sel(B, A)}`,
    `xfrm policy add src ${A}/32 dst ${B}/32 proto udp dport 4790 dir out tmpl src ${A} dst ${B} proto esp reqid ${BERTH_XFRM_REQID} mode transport`,
    `xfrm policy add src ${B}/32 dst ${A}/32 proto udp dport 4790 dir in tmpl src ${B} dst ${A} proto esp reqid ${BERTH_XFRM_REQID} mode transport`,
  ]);
});

test('xfrmBatch: exact — what is right is kept, a changed key made again, stale and other ports removed, others\' left alone', () => {
  const [t7] = tunnelsFor(A, [B], KEYS);
  const states = [
    { src: A, dst: B, spi: t7!.spiOut, reqid: BERTH_XFRM_REQID, key: t7!.keyOut },
    { src: B, dst: A, spi: t7!.spiIn, reqid: BERTH_XFRM_REQID, key: 'ff'.repeat(20) },
    { src: C, dst: A, spi: 0x1234, reqid: BERTH_XFRM_REQID, key: '33'.repeat(20) },
    { src: C, dst: A, spi: 0x5678, reqid: 1, key: '44'.repeat(20) },
  ];
  const policies = [
    { src: A, dst: B, dport: 4790, dir: 'out', reqid: BERTH_XFRM_REQID },
    { src: B, dst: A, dport: 4789, dir: 'in', reqid: BERTH_XFRM_REQID },
    { src: C, dst: A, dport: 500, dir: 'in', reqid: 1 },
  ];
  assert.deepEqual(xfrmBatch(states, policies, [t7!], 4790), [
    `xfrm policy delete src ${B}/32 dst ${A}/32 proto udp dport 4789 dir in`,
    `xfrm state delete src ${B} dst ${A} proto esp spi 0x${t7!.spiIn.toString(16).padStart(8, '0')}`,
    `xfrm state delete src ${C} dst ${A} proto esp spi 0x00001234`,
    `xfrm state add src ${B} dst ${A} proto esp spi 0x${t7!.spiIn.toString(16).padStart(8, '0')} reqid ${BERTH_XFRM_REQID} mode transport aead rfc4106(gcm(aes)) 0x${t7!.keyIn} 128 sel src ${B} dst ${A} proto udp dport 4790`,
    `xfrm policy add src ${B}/32 dst ${A}/32 proto udp dport 4790 dir in tmpl src ${B} dst ${A} proto esp reqid ${BERTH_XFRM_REQID} mode transport`,
  ]);
  assert.deepEqual(xfrmBatch(states.slice(3), policies.slice(2), [], 4790), [], 'set([]) leaves others\' alone');
});

test('ip xfrm policy / state output parsed', () => {
  const policyText = [
    `src ${B}/32 dst ${A}/32 proto udp dport 4790 `,
    '\tdir in priority 0 ptype main ',
    `\ttmpl src ${B} dst ${A}`,
    '\t\tproto esp reqid 36391 mode transport',
    `src ${A}/32 dst ${B}/32 proto udp dport 4790 `,
    '\tdir out priority 0 ptype main ',
    `\ttmpl src ${A} dst ${B}`,
    '\t\tproto esp reqid 36391 mode transport',
    'src 0.0.0.0/0 dst 0.0.0.0/0 ',
    '\tsocket in priority 0 ptype main ',
    '',
  ].join('\n');
  assert.deepEqual(parseXfrmPolicies(policyText), [
    { src: B, dst: A, dport: 4790, dir: 'in', reqid: 36391 },
    { src: A, dst: B, dport: 4790, dir: 'out', reqid: 36391 },
  ]);
  const stateText = [
    `src ${A} dst ${B}`,
    '\tproto esp spi 0xc7295c64 reqid 36391 mode transport',
    '\treplay-window 0 ',
    '\taead rfc4106(gcm(aes)) 0x829a08eec19f480e0330ff5fb60547a23bcb5546 128',
    '\tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000',
    `\tsel src ${A}/32 dst ${B}/32 proto udp dport 4790 `,
    `src ${C} dst ${A}`,
    '\tproto esp spi 0x00000300 reqid 0 mode tunnel',
    '\treplay-window 0 ',
    '\tauth-trunc hmac(sha256) 0x00 128',
    '\tenc cbc(aes) 0x00',
    '',
  ].join('\n');
  assert.deepEqual(parseXfrmStates(stateText), [
    { src: A, dst: B, spi: 0xc7295c64, reqid: 36391, key: '829a08eec19f480e0330ff5fb60547a23bcb5546' },
    { src: C, dst: A, spi: 0x300, reqid: 0, key: '' },
  ]);
});
