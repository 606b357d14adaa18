// containers-policy.json as Berth reads it: strict parsing, docker scopes longest match first, requirements and signed
// identities evaluated with signatures from a fake store; the signature store's layout and ImageTrust over a fake repository.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, type KeyObject } from 'node:crypto';
import { decryptPrivateKey, generateKeyPair } from '../../src/trust/sigstore-key';
import { buildPayload, signPayload } from '../../src/trust/simple-signing';
import { dockerScopes, evaluate, parsePolicy, requirementsFor, type StoredSignature } from '../../src/trust/policy';
import { readSignatures, writeSignature } from '../../src/trust/signature-store';
import { ImageTrust } from '../../src/trust/image-trust';
import { ForbiddenError } from '../../src/errdefs';
import type { RepositoryDocuments } from '../../src/registry/repository';
import type { Descriptor } from '../../src/wire/oci';
import { parseNormalizedNamed } from '../../src/wire/reference';

type Pair = Awaited<ReturnType<typeof generateKeyPair>>;
let trusted: Pair;
let foreign: Pair;
const keys: Record<string, string> = {};
const privateKeys = new Map<Pair, KeyObject>();

before(async () => {
  trusted = await generateKeyPair(Buffer.from('t'));
  foreign = await generateKeyPair(Buffer.from('f'));
  keys['/keys/trusted.pub'] = trusted.publicPem;
  keys['/keys/foreign.pub'] = foreign.publicPem;
  // Decrypted once each: scrypt's cost is paid per decryption.
  privateKeys.set(trusted, await decryptPrivateKey(trusted.privatePem, Buffer.from('t')));
  privateKeys.set(foreign, await decryptPrivateKey(foreign.privatePem, Buffer.from('f')));
});
const readKey = (p: string) => { const k = keys[p]; if (k === undefined) throw new Error('ENOENT: no such file'); return k; };
const DIGEST = `sha256:${'1'.repeat(64)}`;
const OTHER = `sha256:${'2'.repeat(64)}`;

function sign(pair: Pair, reference: string, digest = DIGEST): StoredSignature {
  const payload = buildPayload(reference, digest, 'test');
  return { payload, signature: signPayload(payload, privateKeys.get(pair)!) };
}

function policy(docker: Record<string, unknown>, def: unknown = [{ type: 'insecureAcceptAnything' }]) {
  return parsePolicy(JSON.stringify({ default: def, transports: { docker, 'docker-daemon': { '': [{ type: 'insecureAcceptAnything' }] } } }), 'test.json', readKey);
}

const signed = (extra: Record<string, unknown> = {}) => [{ type: 'sigstoreSigned', keyPath: '/keys/trusted.pub', ...extra }];

test('scopes go from the full reference down to the host and its wildcard domains', () => {
  assert.deepEqual(dockerScopes(parseNormalizedNamed('reg.example.com:5000/a/b/c:1')), [
    'reg.example.com:5000/a/b/c:1', 'reg.example.com:5000/a/b/c', 'reg.example.com:5000/a/b', 'reg.example.com:5000/a', 'reg.example.com:5000',
    '*.example.com', '*.com',
  ]);
  const p = policy({ 'localhost:5000': [{ type: 'reject' }], 'localhost:5000/team': signed(), 'localhost:5000/team/app:1': [{ type: 'insecureAcceptAnything' }], '': [{ type: 'reject' }] });
  assert.equal(requirementsFor(p, parseNormalizedNamed('localhost:5000/team/app:1')).scope, 'localhost:5000/team/app:1');
  assert.equal(requirementsFor(p, parseNormalizedNamed('localhost:5000/team/app:2')).scope, 'localhost:5000/team');
  assert.equal(requirementsFor(p, parseNormalizedNamed('localhost:5000/other:1')).scope, 'localhost:5000');
  assert.equal(requirementsFor(p, parseNormalizedNamed('busybox')).scope, 'transports.docker[""]');
  assert.equal(requirementsFor(policy({}), parseNormalizedNamed('busybox')).scope, 'default');
});

test('malformed policies are refused with the file and the place named', () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => parsePolicy(text, 'p.json', readKey), (e: Error) => /^signature policy p\.json: /.test(e.message) && re.test(e.message));
  bad('{', /not JSON/);
  bad('{"transports":{}}', /no "default"/);
  bad('{"default":[]}', /default must not be empty/);
  bad('{"default":[{"type":"acceptAll"}]}', /default\[0\]: unknown requirement type "acceptAll"/);
  bad('{"default":[{"type":"reject","x":1}]}', /unknown field "x"/);
  bad('{"default":[{"type":"sigstoreSigned"}]}', /exactly one of keyPath/);
  bad('{"default":[{"type":"sigstoreSigned","keyPath":"/keys/none.pub"}]}', /cannot read \/keys\/none\.pub/);
  bad('{"default":[{"type":"sigstoreSigned","keyPath":"keys/trusted.pub"}]}', /default\[0\]\.keyPath: "keys\/trusted\.pub" must be an absolute path/);
  bad('{"default":[{"type":"sigstoreSigned","keyPath":"/keys/trusted.pub","fulcio":{}}]}', /keyless signing\) is not supported/);
  bad('{"default":[{"type":"sigstoreSigned","keyPath":"/keys/trusted.pub","signedIdentity":{"type":"matchFuzzy"}}]}', /unknown signedIdentity type/);
  bad('{"default":[{"type":"reject"}],"transports":{"docker":{"library/busybox":[{"type":"reject"}]}}}', /must be written fully qualified, as "docker.io\/library\/busybox"/);
  bad('{"default":[{"type":"sigstoreSigned","keyData":"bm90IGEga2V5"}]}', /not a PEM file/);
});

test('reject, accept, and GPG requirements that Berth refuses rather than skips', async () => {
  const ref = parseNormalizedNamed('localhost:5000/a:1');
  const none = async () => [];
  assert.equal(await evaluate(policy({}), ref, DIGEST, none), null);
  assert.deepEqual(await evaluate(policy({ 'localhost:5000': [{ type: 'reject' }] }), ref, DIGEST, none), { scope: 'localhost:5000', reason: 'the policy rejects every image in this scope ("reject")' });
  const gpg = await evaluate(policy({ 'localhost:5000': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/x' }] }), ref, DIGEST, none);
  assert.match(gpg!.reason, /signedBy, which Berth does not verify/);
});

test('sigstoreSigned: the trusted key\'s signature for this digest and reference is accepted; the others say why not', async () => {
  const ref = parseNormalizedNamed('localhost:5000/a:1');
  const p = policy({ 'localhost:5000/a': signed() });
  let asked = 0;
  const store = (sigs: StoredSignature[]) => async () => { asked++; return sigs; };
  assert.equal(await evaluate(p, ref, DIGEST, store([sign(trusted, 'localhost:5000/a:1')])), null);
  assert.equal(asked, 1);
  assert.match((await evaluate(p, ref, DIGEST, store([])))!.reason, /no signature exists/);
  assert.match((await evaluate(p, ref, DIGEST, store([sign(foreign, 'localhost:5000/a:1')])))!.reason, /not made by the trusted key/);
  assert.match((await evaluate(p, ref, DIGEST, store([sign(trusted, 'localhost:5000/a:1', OTHER)])))!.reason, /does not match the digest: it is for sha256:2222/);
  assert.match((await evaluate(p, ref, DIGEST, store([sign(trusted, 'localhost:5000/a:2')])))!.reason, /identity mismatch/);
  // Any one good signature among bad ones is enough.
  assert.equal(await evaluate(p, ref, DIGEST, store([sign(foreign, 'localhost:5000/a:1'), sign(trusted, 'localhost:5000/a:1')])), null);
  // keyPaths: any of the keys.
  const either = policy({ 'localhost:5000/a': [{ type: 'sigstoreSigned', keyPaths: ['/keys/trusted.pub', '/keys/foreign.pub'] }] });
  assert.equal(await evaluate(either, ref, DIGEST, store([sign(foreign, 'localhost:5000/a:1')])), null);
  // keyData: the PEM base64-encoded in the policy.
  const inline = policy({ 'localhost:5000/a': [{ type: 'sigstoreSigned', keyData: Buffer.from(trusted.publicPem).toString('base64') }] });
  assert.equal(await evaluate(inline, ref, DIGEST, store([sign(trusted, 'localhost:5000/a:1')])), null);
});

test('signed identities: matchRepoDigestOrExact (default), matchExact, matchRepository, exactReference, exactRepository, remapIdentity', async () => {
  const tagged = parseNormalizedNamed('localhost:5000/a:1');
  const byDigest = parseNormalizedNamed(`localhost:5000/a@${DIGEST}`);
  const run = async (identity: unknown, ref: typeof tagged, signedAs: string) =>
    evaluate(policy({ 'localhost:5000': signed({ signedIdentity: identity }) }), ref, DIGEST, async () => [sign(trusted, signedAs)]);
  assert.equal(await run(undefined, byDigest, 'localhost:5000/a:whatever'), null);
  assert.notEqual(await run(undefined, tagged, 'localhost:5000/a:2'), null);
  assert.notEqual(await run({ type: 'matchExact' }, byDigest, 'localhost:5000/a:1'), null);
  assert.equal(await run({ type: 'matchExact' }, tagged, 'localhost:5000/a:1'), null);
  assert.equal(await run({ type: 'matchRepository' }, tagged, 'localhost:5000/a:9'), null);
  assert.notEqual(await run({ type: 'matchRepository' }, tagged, 'localhost:5000/b:1'), null);
  assert.equal(await run({ type: 'exactReference', dockerReference: 'example.com/x:2' }, tagged, 'example.com/x:2'), null);
  assert.equal(await run({ type: 'exactRepository', dockerRepository: 'example.com/x' }, tagged, 'example.com/x:7'), null);
  assert.equal(await run({ type: 'remapIdentity', prefix: 'localhost:5000', signedPrefix: 'example.com/mirror' }, tagged, 'example.com/mirror/a:1'), null);
  assert.notEqual(await run({ type: 'remapIdentity', prefix: 'localhost:5000', signedPrefix: 'example.com/mirror' }, tagged, 'localhost:5000/a:1'), null);
});

/** A registry repository in memory: manifests by tag, blobs by digest, and optionally a referrers list. */
class FakeRepository implements RepositoryDocuments {
  readonly manifests = new Map<string, Buffer>();
  readonly blobs = new Map<string, Buffer>();
  referrersApi = true;
  private sha(b: Buffer) { return `sha256:${createHash('sha256').update(b).digest('hex')}`; }
  async getManifest(reference: string) { return this.manifests.get(reference) ?? null; }
  async getBlob(digest: string) { const b = this.blobs.get(digest); if (!b) throw new Error(`blob ${digest} unknown`); return b; }
  async putBlob(data: Buffer): Promise<Descriptor> { const digest = this.sha(data); this.blobs.set(digest, data); return { mediaType: 'application/octet-stream', digest, size: data.length }; }
  async putManifest(tag: string, body: Buffer) { this.manifests.set(tag, body); this.manifests.set(this.sha(body), body); return { subjectIndexed: this.referrersApi }; }
  async referrers(digest: string): Promise<Descriptor[] | null> {
    if (!this.referrersApi) return null;
    return [...this.manifests.entries()].filter(([k, b]) => k.startsWith('sha256:') && (JSON.parse(b.toString()) as { subject?: { digest: string } }).subject?.digest === digest)
      .map(([k, b]) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: k, size: b.length }));
  }
}

test('signatures are stored under sha256-<hex>.sig with a subject, appended to, and read back (also through referrers alone)', async () => {
  const repo = new FakeRepository();
  const subject = { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: DIGEST, size: 500 };
  const first = sign(trusted, 'localhost:5000/a:1');
  const second = sign(foreign, 'localhost:5000/a:1');
  assert.deepEqual(await writeSignature(repo, subject, first), { referrer: true });
  await writeSignature(repo, subject, second);
  const tag = `sha256-${'1'.repeat(64)}.sig`;
  const m = JSON.parse(repo.manifests.get(tag)!.toString()) as { layers: Descriptor[]; subject: Descriptor; config: Descriptor; artifactType: string };
  assert.equal(m.layers.length, 2);
  assert.equal(m.layers[0]!.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
  assert.equal(m.layers[1]!.annotations!['dev.cosignproject.cosign/signature'], second.signature);
  assert.deepEqual(m.subject, subject);
  assert.equal(m.config.mediaType, 'application/vnd.oci.image.config.v1+json');
  assert.deepEqual(await readSignatures(repo, DIGEST), [first, second]);
  // Without the tag, the referrers API finds them (each once, though both manifests written list the first).
  repo.manifests.delete(tag);
  assert.equal((await readSignatures(repo, DIGEST)).length, 2);
  assert.deepEqual(await readSignatures(repo, OTHER), []);
});

test('ImageTrust: no policy file accepts; admit names image, digest, file, scope and reason; signing again with the same key adds nothing', async () => {
  const files: Record<string, string> = { ...keys };
  const trust = new ImageTrust({ policyPath: '/etc/berth/policy.json', readFile: (p) => { const t = files[p]; if (t === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' }); return t; } });
  const repo = new FakeRepository();
  const ref = parseNormalizedNamed('localhost:5000/a:1');
  assert.equal(trust.load(), null);
  await trust.admit(ref, DIGEST, repo);
  files['/etc/berth/policy.json'] = JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { 'localhost:5000/a': signed() } } });
  await assert.rejects(trust.admit(ref, DIGEST, repo), (e: Error) => e instanceof ForbiddenError
    && e.message === `image localhost:5000/a:1 (${DIGEST}) refused by signature policy /etc/berth/policy.json, scope "localhost:5000/a": a signature was required, but no signature exists`);
  const subject = { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: DIGEST, size: 10 };
  assert.deepEqual(await trust.sign(repo, ref, subject, privateKeys.get(trusted)!), { stored: true, referrer: true });
  await trust.admit(ref, DIGEST, repo);
  assert.deepEqual(await trust.sign(repo, ref, subject, privateKeys.get(trusted)!), { stored: false, referrer: false });
  assert.equal((await trust.sign(repo, ref, subject, privateKeys.get(foreign)!)).stored, true);
  assert.equal((await readSignatures(repo, DIGEST)).length, 2);
  // Another image's name is another statement: signed anew.
  assert.equal((await trust.sign(repo, parseNormalizedNamed('localhost:5000/a:2'), subject, privateKeys.get(trusted)!)).stored, true);
  files['/etc/berth/policy.json'] = '{"default": [';
  await assert.rejects(trust.admit(ref, DIGEST, repo), /signature policy \/etc\/berth\/policy\.json: not JSON/);
});
