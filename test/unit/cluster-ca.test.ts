// The cluster CA and join tokens: root shape, node certificates (subject, SANs, chain), identity checks, token format.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { OpensslSigner } from '../../src/cluster/ca/openssl';
import { createRoot, identityOfCertificate, issueNodeCertificate, requestNodeCertificate, signNodeCertificate, tlsInfoOf } from '../../src/cluster/ca/ca';
import { caDigest, generateJoinToken, parseJoinToken, roleOfToken } from '../../src/cluster/ca/tokens';

const signer = new OpensslSigner();

test('root: CN=swarm-ca, P-256, TLSInfo as moby shows it', async () => {
  const root = await createRoot(signer);
  const cert = new X509Certificate(root.certPem);
  assert.equal(cert.subject, 'CN=swarm-ca');
  assert.equal(cert.ca, true);
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const info = tlsInfoOf(root.certPem);
  assert.equal(info.TrustRoot, root.certPem);
  assert.equal(info.CertIssuerSubject, 'MBMxETAPBgNVBAMTCHN3YXJtLWNh');
  assert.match(info.CertIssuerPublicKey, /^MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/);

  const identity = { nodeId: 'n1abc', role: 'manager' as const, clusterId: 'c1xyz' };
  const node = await issueNodeCertificate(signer, root, identity, ['10.1.2.3'], 90);
  const nc = new X509Certificate(node.certPem);
  assert.equal(nc.subjectAltName?.includes('IP Address:10.1.2.3'), true);
  assert.deepEqual(identityOfCertificate(node.certPem, root.certPem), identity);
  const other = await createRoot(signer);
  assert.equal(identityOfCertificate(node.certPem, other.certPem), undefined);

  const req = await requestNodeCertificate(signer, 'someone-else');
  await assert.rejects(signNodeCertificate(signer, root, req.csrPem, identity, [], 90), /does not name node/);
  const worker = await requestNodeCertificate(signer, 'w1');
  const signed = await signNodeCertificate(signer, root, worker.csrPem, { nodeId: 'w1', role: 'worker', clusterId: 'c1xyz' }, ['10.1.2.4'], 90);
  assert.deepEqual(identityOfCertificate(signed, root.certPem), { nodeId: 'w1', role: 'worker', clusterId: 'c1xyz' });
});

test('join tokens: SWMTKN-1-<50>-<25>, digest pins the PEM, roles told apart', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n';
  const w = generateJoinToken(pem);
  const m = generateJoinToken(pem);
  assert.match(w, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  assert.equal(parseJoinToken(w)?.caDigest, caDigest(pem));
  assert.equal(parseJoinToken(m)?.caDigest, caDigest(pem));
  assert.notEqual(w, m);
  assert.equal(roleOfToken(w, { Worker: w, Manager: m }), 'worker');
  assert.equal(roleOfToken(m, { Worker: w, Manager: m }), 'manager');
  assert.equal(roleOfToken('SWMTKN-1-x', { Worker: w, Manager: m }), undefined);
  assert.equal(parseJoinToken('SWMTKN-1-abc-def'), undefined);
});
