// Unit tests of src/api/hijack.ts's response head: docker-py gets a head exactly as long as the buffer its
// http.client reads it through, so frames written right after it stay in the socket for the raw reads that follow.
import test from 'node:test';
import assert from 'node:assert/strict';
import { responseHead } from '../../src/api/hijack';

const FIELDS = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n';

test('other clients get the head as dockerd writes it', () => {
  for (const agent of [undefined, 'Docker-Client/28.2.2 (linux)', 'dockerode', 'python-requests/2.28']) {
    assert.equal(responseHead(FIELDS, agent), `${FIELDS}\r\n`);
  }
});

test('docker-py gets a head of exactly 8 KiB, still one valid HTTP head', () => {
  for (const agent of ['docker-sdk-python/5.0.3', 'docker-sdk-python/7.1.0']) {
    const head = responseHead(FIELDS, agent);
    assert.equal(Buffer.byteLength(head), 8192);
    assert.ok(head.startsWith(FIELDS));
    assert.ok(head.endsWith('\r\n\r\n'));
    // One blank line only: the end of the head.
    assert.equal(head.indexOf('\r\n\r\n'), head.length - 4);
    assert.match(head.slice(FIELDS.length), /^X-Berth-Padding: \.+\r\n\r\n$/);
  }
});
