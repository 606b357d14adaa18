// Sigstore key files and simple-signing payloads, against files skopeo 1.18 (containers/image 5.34) made.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decryptPrivateKey, generateKeyPair, parsePublicKey, COSIGN_PRIVATE_KEY_PEM } from '../../src/trust/sigstore-key';
import { buildPayload, signPayload, verifySignature, SignatureRejected } from '../../src/trust/simple-signing';
import { sigstoreSignHeader } from '../../src/api/shapes/registry';
import { repoRoot } from '../helpers/paths';

const FIXTURES = path.join(repoRoot, 'test/unit/fixtures/sigstore');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
/** The passphrase the skopeo fixture key was made with (`skopeo generate-sigstore-key --passphrase-file`). */
const SKOPEO_PASSPHRASE = Buffer.from('pw');

test('a key skopeo generated decrypts with its passphrase, and signs what its public key verifies', async () => {
  const key = await decryptPrivateKey(fixture('skopeo-1.18.private'), SKOPEO_PASSPHRASE);
  const pub = parsePublicKey(fixture('skopeo-1.18.pub'));
  const payload = buildPayload('localhost:5000/a/b:1', `sha256:${'a'.repeat(64)}`, 'test');
  assert.deepEqual(verifySignature(payload, signPayload(payload, key), [pub]), { manifestDigest: `sha256:${'a'.repeat(64)}`, dockerReference: 'localhost:5000/a/b:1' });
});

test('a wrong passphrase and a damaged file are named as such', async () => {
  await assert.rejects(() => decryptPrivateKey(fixture('skopeo-1.18.private'), Buffer.from('nope')), /wrong passphrase or damaged file/);
  await assert.rejects(() => decryptPrivateKey('not a pem', SKOPEO_PASSPHRASE), /not a PEM file/);
  await assert.rejects(() => decryptPrivateKey(fixture('skopeo-1.18.pub'), SKOPEO_PASSPHRASE), /unsupported PEM type "PUBLIC KEY"/);
  const pem = fixture('skopeo-1.18.private');
  const body = JSON.parse(Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64').toString()) as { kdf: { params: { N: number } } };
  body.kdf.params.N = 1 << 24;
  const costly = `-----BEGIN ${COSIGN_PRIVATE_KEY_PEM}-----\n${Buffer.from(JSON.stringify(body)).toString('base64')}\n-----END ${COSIGN_PRIVATE_KEY_PEM}-----\n`;
  await assert.rejects(() => decryptPrivateKey(costly, SKOPEO_PASSPHRASE), /scrypt parameters .* not one of the accepted sets/);
});

test('Berth\'s key pair: the PEM types skopeo 1.9 and cosign read, scrypt N=32768 inside, round trip', async () => {
  const pair = await generateKeyPair(Buffer.from('secret'));
  assert.match(pair.privatePem, /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n/);
  assert.match(pair.publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
  const inner = JSON.parse(Buffer.from(pair.privatePem.split('\n').slice(1, -2).join(''), 'base64').toString()) as Record<string, { name: string; params?: unknown }>;
  assert.equal(inner.kdf!.name, 'scrypt');
  assert.deepEqual(inner.kdf!.params, { N: 32768, r: 8, p: 1 });
  assert.equal(inner.cipher!.name, 'nacl/secretbox');
  const key = await decryptPrivateKey(pair.privatePem, Buffer.from('secret'));
  const payload = buildPayload('docker.io/library/busybox:latest', `sha256:${'b'.repeat(64)}`, 'berth');
  verifySignature(payload, signPayload(payload, key), [parsePublicKey(pair.publicPem)]);
});

test('skopeo\'s stored signature verifies; one changed byte of it or of its payload does not', async () => {
  const manifest = JSON.parse(fixture('skopeo-1.18-sig-manifest.json')) as { layers: { annotations: Record<string, string> }[] };
  const signature = manifest.layers[0]!.annotations['dev.cosignproject.cosign/signature']!;
  const payload = Buffer.from(fixture('skopeo-1.18-payload.json'));
  const pub = parsePublicKey(fixture('skopeo-1.18.pub'));
  const claims = verifySignature(payload, signature, [pub]);
  assert.equal(claims.dockerReference, '127.0.0.1:37055/fx/img:1');
  assert.equal(claims.manifestDigest, 'sha256:74206f1563736faf8f427d96e48cd2017f06dcc92a12f892a764869a051c263a');
  const tampered = Buffer.from(payload.toString().replace('74206f15', '74206f16'));
  assert.throws(() => verifySignature(tampered, signature, [pub]), SignatureRejected);
  const other = parsePublicKey((await generateKeyPair(Buffer.from('x'))).publicPem);
  assert.throws(() => verifySignature(payload, signature, [other]), /not made by the trusted key/);
});

test('a validly signed payload is still read strictly: unknown critical fields and a wrong type are refused', async () => {
  const pair = await generateKeyPair(Buffer.from('k'));
  const key = await decryptPrivateKey(pair.privatePem, Buffer.from('k'));
  const pub = parsePublicKey(pair.publicPem);
  const digest = `sha256:${'c'.repeat(64)}`;
  const signed = (obj: unknown) => { const p = Buffer.from(JSON.stringify(obj)); return () => verifySignature(p, signPayload(p, key), [pub]); };
  const critical = { identity: { 'docker-reference': 'a/b:1' }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' };
  assert.throws(signed({ critical: { ...critical, extra: 1 }, optional: null }), /unknown field "extra"/);
  assert.throws(signed({ critical: { ...critical, type: 'atomic container signature' }, optional: null }), /payload's type/);
  assert.throws(signed({ critical }), /no field "optional"/);
  assert.throws(signed({ critical: { ...critical, image: { 'docker-manifest-digest': 'md5:x' } }, optional: null }), /not a sha256 digest/);
  assert.doesNotThrow(signed({ critical, optional: { anything: [1, 2] } }));
});

test('the push\'s X-Berth-Sigstore-Sign header is decoded and its key decrypted at the API edge', async () => {
  const header = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const pem = fixture('skopeo-1.18.private');
  assert.equal(await sigstoreSignHeader(undefined), undefined);
  assert.equal((await sigstoreSignHeader(header({ privateKey: pem, passphrase: 'pw' })))!.asymmetricKeyType, 'ec');
  await assert.rejects(() => sigstoreSignHeader(header({ privateKey: pem, passphrase: 'no' })), /wrong passphrase/);
  await assert.rejects(() => sigstoreSignHeader(header({ privateKey: 5 })), /invalid X-Berth-Sigstore-Sign header: .*privateKey/);
  await assert.rejects(() => sigstoreSignHeader(header({ passphrase: 'pw' })), /privateKey \(the encrypted key PEM\) is required/);
  await assert.rejects(() => sigstoreSignHeader('%%%'), /not base64-encoded JSON/);
});
