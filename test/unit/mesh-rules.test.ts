// Unit tests of the mesh's iptables renderer and of the applier's spawns (a recording command runner, no iptables).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  IptablesMeshRules, parseMeshPresence, renderMesh, renderMeshClear, type CommandRunner,
} from '../../src/network/overlay/mesh-rules';
import type { IngressRule, MeshState, VipRule } from '../../src/network/overlay/mesh';
import { InvalidParameterError } from '../../src/errdefs';

const vip = (backends: string[]): VipRule => ({ serviceId: 'svc1', vip: '10.0.1.100', bridge: 'bo-aaaa', lbAddr: '10.0.1.2', backends });
const ingress = (over: Partial<IngressRule> = {}): IngressRule => ({
  serviceId: 'svc2', proto: 'tcp', publishedPort: 8080, targetPort: 80, bridge: 'bo-ingress', lbAddr: '10.255.0.2',
  backends: [{ ip: '10.255.0.5', local: true }, { ip: '10.255.0.6', local: false }], ...over,
});
const only = (doc: string, pattern: RegExp): string[] => doc.split('\n').filter((l) => pattern.test(l));

const SAVE_WITH_JUMPS = [
  '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':BERTH-MESH-FWD - [0:0]', ':BERTH-MESH-IN - [0:0]',
  '-A INPUT -j BERTH-MESH-IN', '-A FORWARD -j BERTH-MESH-FWD', '-A FORWARD -j DOCKER-USER', 'COMMIT',
  '*nat', ':PREROUTING ACCEPT [0:0]', ':BERTH-MESH-PRE - [0:0]', ':BERTH-MESH-OUT - [0:0]', ':BERTH-MESH-POST - [0:0]',
  '-A PREROUTING -j BERTH-MESH-PRE', '-A OUTPUT -j BERTH-MESH-OUT', '-A POSTROUTING -j BERTH-MESH-POST',
  '-A BERTH-MESH-OUT -j BERTH-MESH-PRE', 'COMMIT', '',
].join('\n');

const vipCases: { name: string; backends: string[]; dnat: RegExp[]; snat: number; reject: number }[] = [
  { name: 'no backend: no DNAT, refused in INPUT', backends: [], dnat: [], snat: 0, reject: 2 },
  { name: 'one backend: DNAT without statistic', backends: ['10.0.1.5'], dnat: [/^-A BERTH-MESH-PRE -d 10\.0\.1\.100\/32 .*-j DNAT --to-destination 10\.0\.1\.5$/], snat: 1, reject: 2 },
  {
    name: 'three backends: 1/3, 1/2, then the last unconditionally',
    backends: ['10.0.1.5', '10.0.1.6', '10.0.1.7'],
    dnat: [
      /-d 10\.0\.1\.100\/32 .*--probability 0\.33333333 -j DNAT --to-destination 10\.0\.1\.5$/,
      /-d 10\.0\.1\.100\/32 .*--probability 0\.50000000 -j DNAT --to-destination 10\.0\.1\.6$/,
      /-d 10\.0\.1\.100\/32 (?!.*statistic).*-j DNAT --to-destination 10\.0\.1\.7$/,
    ],
    snat: 1, reject: 2,
  },
];

for (const c of vipCases) {
  test(`renderMesh VIP, ${c.name}`, () => {
    const doc = renderMesh({ vips: [vip(c.backends)], ingress: [] });
    const dnat = only(doc, /-j DNAT/);
    assert.equal(dnat.length, c.dnat.length);
    c.dnat.forEach((re, i) => assert.match(dnat[i]!, re));
    // No protocol match: every TCP and UDP port goes through, the port kept (no port in --to-destination).
    for (const l of dnat) assert.doesNotMatch(l, / -p /);
    const snat = only(doc, /^-A BERTH-MESH-POST .*--ctorigdst 10\.0\.1\.100 -j SNAT --to-source 10\.0\.1\.2$/);
    assert.equal(snat.length, c.snat);
    assert.equal(only(doc, /^-A BERTH-MESH-FWD .*--ctstate DNAT --ctorigdst 10\.0\.1\.100 -j ACCEPT$/).length, c.snat);
    assert.equal(only(doc, /^-A BERTH-MESH-IN -d 10\.0\.1\.100\/32 .*-j REJECT( --reject-with tcp-reset)?$/).length, c.reject);
    assert.equal(only(doc, /^-A BERTH-MESH-IN -d 10\.0\.1\.100\/32 -p tcp .*-j REJECT --reject-with tcp-reset$/).length, 1);
  });
}

test('renderMesh ingress: DNAT to ip:target on local addresses, SNAT only for the remote backend and loopback clients', () => {
  const doc = renderMesh({ vips: [], ingress: [ingress()] });
  const dnat = only(doc, /-j DNAT/);
  assert.equal(dnat.length, 2);
  for (const l of dnat) assert.match(l, /^-A BERTH-MESH-PRE -p tcp -m tcp --dport 8080 -m addrtype --dst-type LOCAL /);
  assert.match(dnat[0]!, /--probability 0\.50000000 -j DNAT --to-destination 10\.255\.0\.5:80$/);
  assert.match(dnat[1]!, /-j DNAT --to-destination 10\.255\.0\.6:80$/);
  assert.doesNotMatch(dnat[1]!, /statistic/);
  const snat = only(doc, /-j SNAT/);
  assert.deepEqual(snat.map((l) => l.replace(/-m comment --comment \S+ /, '')), [
    '-A BERTH-MESH-POST -s 127.0.0.0/8 -o bo-ingress -m conntrack --ctstate DNAT -j SNAT --to-source 10.255.0.2',
    '-A BERTH-MESH-POST -d 10.255.0.6/32 -p tcp -m conntrack --ctstate DNAT --ctproto tcp --ctorigdstport 8080 -j SNAT --to-source 10.255.0.2',
  ]);
  assert.equal(only(doc, /^-A BERTH-MESH-FWD -p tcp .*--ctorigdstport 8080 -j ACCEPT$/).length, 1);
  assert.equal(only(doc, /^-A BERTH-MESH-IN /).length, 0, 'ports with backends are DNATed, never refused');
});

test('renderMesh ingress udp, and a port without backends is refused', () => {
  const doc = renderMesh({ vips: [], ingress: [ingress({ proto: 'udp', publishedPort: 53, targetPort: 5353 }), ingress({ serviceId: 'none', publishedPort: 9000, backends: [] })] });
  assert.equal(only(doc, /^-A BERTH-MESH-PRE -p udp -m udp --dport 53 -m addrtype --dst-type LOCAL .*-j DNAT --to-destination 10\.255\.0\.\d:5353$/).length, 2);
  assert.equal(only(doc, /--ctproto udp --ctorigdstport 53 -j SNAT/).length, 1);
  assert.equal(only(doc, /--dport 9000/).length, 1);
  assert.match(only(doc, /--dport 9000/)[0]!, /^-A BERTH-MESH-IN -p tcp -m tcp --dport 9000 .*-j REJECT --reject-with tcp-reset$/);
  assert.equal(only(doc, /-s 127\.0\.0\.0\/8/).length, 1, 'one loopback SNAT per ingress bridge');
});

test('renderMesh: rule count grows linearly with backends', () => {
  const many = Array.from({ length: 200 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  const rules = (n: number) => only(renderMesh({ vips: [vip(many.slice(0, n))], ingress: [ingress({ backends: many.slice(0, n).map((ip) => ({ ip, local: false })) })] }), /^-A /).length;
  assert.equal(rules(200) - rules(100), 300, 'three rules per added backend: VIP DNAT, ingress DNAT, ingress SNAT');
});

test('renderMesh: the jumps are inserted when absent, left alone when present once, duplicates deleted', () => {
  const state: MeshState = { vips: [vip(['10.0.1.5'])], ingress: [] };
  const fresh = renderMesh(state);
  assert.deepEqual(only(fresh, /^-[ID] (PREROUTING|OUTPUT|POSTROUTING|FORWARD|INPUT) /), [
    '-I PREROUTING 1 -j BERTH-MESH-PRE', '-I OUTPUT 1 -j BERTH-MESH-OUT', '-I POSTROUTING 1 -j BERTH-MESH-POST',
    '-I FORWARD 1 -j BERTH-MESH-FWD', '-I INPUT 1 -j BERTH-MESH-IN',
  ]);
  const present = parseMeshPresence(SAVE_WITH_JUMPS);
  assert.equal(present.jumps.nat.length, 3, 'the mesh chain jumping to another is not a built-in jump');
  assert.deepEqual(only(renderMesh(state, present), /^-[ID] (PREROUTING|OUTPUT|POSTROUTING|FORWARD|INPUT) /), []);
  const doubled = SAVE_WITH_JUMPS.replace('-A OUTPUT -j BERTH-MESH-OUT', '-A OUTPUT -j BERTH-MESH-OUT\n-A OUTPUT -j BERTH-MESH-OUT\n-A OUTPUT -m addrtype --dst-type LOCAL -j BERTH-MESH-OUT');
  assert.deepEqual(only(renderMesh(state, parseMeshPresence(doubled)), /^-[ID] OUTPUT /), [
    '-D OUTPUT -j BERTH-MESH-OUT', '-D OUTPUT -m addrtype --dst-type LOCAL -j BERTH-MESH-OUT',
  ]);
  // Every mesh chain is declared (so flushed) in every document: the previous rules never survive an apply.
  for (const c of ['PRE', 'OUT', 'POST', 'FWD', 'IN']) assert.ok(fresh.includes(`:BERTH-MESH-${c} - [0:0]\n`));
});

test('renderMeshClear: flushes, deletes the jumps, then the chains; nothing present renders nothing', () => {
  const doc = renderMeshClear(parseMeshPresence(SAVE_WITH_JUMPS));
  const nat = doc.slice(doc.indexOf('*nat'));
  assert.ok(nat.indexOf(':BERTH-MESH-OUT - [0:0]') < nat.indexOf('-D OUTPUT -j BERTH-MESH-OUT'));
  assert.ok(nat.indexOf('-D OUTPUT -j BERTH-MESH-OUT') < nat.indexOf('-X BERTH-MESH-PRE'));
  assert.equal(only(doc, /^-X /).length, 5);
  assert.equal(only(doc, /^-D /).length, 5);
  assert.ok(!doc.includes('DOCKER-USER'));
  assert.equal(renderMeshClear(parseMeshPresence('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n')), '');
});

test('renderMesh refuses what would break or inject into the restore document', () => {
  assert.throws(() => renderMesh({ vips: [vip(['10.0.1.5 -j ACCEPT'])], ingress: [] }), InvalidParameterError);
  assert.throws(() => renderMesh({ vips: [], ingress: [ingress({ publishedPort: 0 })] }), InvalidParameterError);
  assert.throws(() => renderMesh({ vips: [], ingress: [ingress({ bridge: 'br0 -j DROP' })] }), InvalidParameterError);
  assert.match(renderMesh({ vips: [{ ...vip(['10.0.1.5']), serviceId: 'a"b c' }], ingress: [] }), /--comment abc:vip /);
});

test('IptablesMeshRules: one save and one restore per apply, route_localnet on the ingress bridge, serialized', async () => {
  const calls: string[] = [];
  let save = '';
  const run: CommandRunner = async (file, args) => {
    calls.push(`${file} ${args.join(' ')}`);
    if (file === 'iptables-restore') save = SAVE_WITH_JUMPS; // as if the jumps were now there
    return { code: 0, stdout: file === 'iptables-save' ? save : '', stderr: '' };
  };
  const localnet: string[] = [];
  const mesh = new IptablesMeshRules({ run, routeLocalnet: async (dev) => { localnet.push(dev); } });
  await Promise.all([mesh.apply({ vips: [], ingress: [ingress()] }), mesh.apply({ vips: [vip([])], ingress: [] })]);
  assert.deepEqual(calls, ['iptables-save ', 'iptables-restore --noflush -w', 'iptables-save ', 'iptables-restore --noflush -w']);
  assert.deepEqual(localnet, ['bo-ingress']);
  await assert.rejects(mesh.apply({ vips: [vip(['nope'])], ingress: [] }), InvalidParameterError);
  assert.equal(calls.length, 4, 'invalid state runs nothing');
  calls.length = 0;
  await mesh.clear();
  assert.deepEqual(calls, ['iptables-save ', 'iptables-restore --noflush -w']);
});

test('IptablesMeshRules: a failing restore is a SystemError with iptables\' words', async () => {
  const mesh = new IptablesMeshRules({
    run: async (file) => (file === 'iptables-restore' ? { code: 2, stdout: '', stderr: 'iptables-restore: line 4 failed' } : { code: 0, stdout: '', stderr: '' }),
    routeLocalnet: async () => {},
  });
  await assert.rejects(mesh.apply({ vips: [vip(['10.0.1.5'])], ingress: [] }), /line 4 failed/);
});
