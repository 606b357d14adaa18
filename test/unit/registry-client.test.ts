// The engine's registry client helpers: WWW-Authenticate parsing, Docker's insecure-registry rules, X-Registry-Auth decoding, error bodies.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenge, isInsecure, errorFromBody } from '../../src/registry/client';
import { registryHost } from '../../src/engine/registry-auth';
import { registryAuthHeader } from '../../src/api/shapes/registry';

test('WWW-Authenticate challenges: bearer with quoted params (commas inside), basic, and junk', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.deepEqual(parseChallenge('bearer realm=http://x/t, error="insufficient_scope"')!.params, { realm: 'http://x/t', error: 'insufficient_scope' });
  assert.equal(parseChallenge('Negotiate abc'), null);
  assert.equal(parseChallenge(undefined), null);
});

test('insecure registries: loopback always, names and CIDRs from the daemon config, nothing else', () => {
  assert.ok(isInsecure('127.0.0.1:5000', []));
  assert.ok(isInsecure('localhost:5000', []));
  assert.ok(isInsecure('[::1]:5000', []));
  assert.ok(!isInsecure('registry.example:5000', []));
  assert.ok(isInsecure('registry.example:5000', ['registry.example:5000']));
  assert.ok(isInsecure('registry.example', ['http://registry.example/']));
  assert.ok(isInsecure('10.1.2.3:5000', ['10.0.0.0/8']));
  assert.ok(!isInsecure('11.1.2.3:5000', ['10.0.0.0/8']));
  assert.ok(isInsecure('192.0.2.9', ['192.0.2.0/24']));
  assert.ok(!isInsecure('192.0.3.9', ['192.0.2.0/24']));
});

test('X-Registry-Auth: base64url and base64 JSON, empty means anonymous, garbage is refused', () => {
  const body = { username: 'bob', password: 'p+/=?', serveraddress: 'r:5000' };
  assert.deepEqual(registryAuthHeader(Buffer.from(JSON.stringify(body)).toString('base64url')), body);
  assert.deepEqual(registryAuthHeader(Buffer.from(JSON.stringify(body)).toString('base64')), body);
  assert.deepEqual(registryAuthHeader(undefined), {});
  assert.deepEqual(registryAuthHeader('e30='), {});
  assert.throws(() => registryAuthHeader('%%%not-json'), /X-Registry-Auth/);
  assert.equal(registryHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryHost('127.0.0.1:5000'), '127.0.0.1:5000');
});

test('registry errors: the spec\'s JSON body becomes "code: message"; otherwise the status', () => {
  const e = errorFromBody(404, Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] })), 'http://r/v2/x/manifests/y');
  assert.equal(e.message, 'manifest_unknown: manifest unknown');
  assert.equal(e.code, 'MANIFEST_UNKNOWN');
  assert.equal(errorFromBody(401, Buffer.from('nope'), 'u').message, 'unauthorized: authentication required');
  assert.match(errorFromBody(502, Buffer.alloc(0), 'u').message, /unexpected HTTP status: 502 Bad Gateway/);
});
