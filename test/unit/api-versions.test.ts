// compareApiVersions: how routes tell older API versions from newer ones ("1.9" < "1.41" < "1.44"); the version a client is served.
import test from 'node:test';
import assert from 'node:assert/strict';
import { compareApiVersions } from '../../src/api/router';
import { imageInspectFor, versionServed } from '../../src/api/api-versions';
import type { ImageInspect } from '../../src/engine/image-queries';

test('API versions compare by major, then minor, as numbers', () => {
  assert.ok(compareApiVersions('1.41', '1.42') < 0);
  assert.ok(compareApiVersions('1.44', '1.42') > 0);
  assert.equal(compareApiVersions('1.44', '1.44'), 0);
  assert.ok(compareApiVersions('1.9', '1.41') < 0, 'minor versions are numbers, not strings');
  assert.ok(compareApiVersions('2.0', '1.47') > 0);
  assert.ok(compareApiVersions('1.47', '2.0') < 0);
});

test('docker-compose 1.x is answered in the 1.41 API it reads, whatever newer version its docker-py negotiated', () => {
  const compose = 'docker-compose/1.29.2 docker-py/5.0.3 Linux/6.1.0';
  assert.equal(versionServed('1.47', compose), '1.41');
  assert.equal(versionServed('1.38', compose), '1.38', 'an older version it asks for is kept');
  assert.equal(versionServed('1.47', 'Docker-Client/28.0.1 (linux)'), '1.47');
  assert.equal(versionServed('1.47', 'docker-compose/2.29.1'), '1.47', 'Compose v2 reads the new API');
  assert.equal(versionServed('1.47', undefined), '1.47');
  // What it fails on otherwise: image inspect's ContainerConfig, gone from 1.45.
  const image = { Id: 'sha256:x', ContainerConfig: {} } as unknown as ImageInspect;
  assert.ok('ContainerConfig' in imageInspectFor(image, versionServed('1.47', compose)));
});
