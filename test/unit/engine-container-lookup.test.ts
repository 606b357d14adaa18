// Unit tests of container lookup (src/engine/container-lookup.ts): Docker's order (ID, name, link name, unique ID
// prefix) over ContainerRecords, whose name and short-ID indexes follow set, delete and rename.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerRecord } from '../../src/engine/container-record';
import { ContainerRecords, checkNameFree, findContainer, nameTaken } from '../../src/engine/container-lookup';

const record = (id: string, name: string, links: string[] = []) => ({ id, name, hostConfig: { Links: links } }) as unknown as ContainerRecord;
const id = (head: string) => head.padEnd(64, '0');

test('a container is found by ID, name (with or without "/"), link name and unique ID prefix', () => {
  const records = new ContainerRecords();
  const web = record(id('abc123def456aa'), 'web');
  const db = record(id('abc123def456bb'), 'db');
  const app = record(id('ff'), 'app', ['db:database']);
  for (const c of [web, db, app]) records.set(c.id, c);
  assert.equal(findContainer(records, web.id), web);
  assert.equal(findContainer(records, 'web'), web);
  assert.equal(findContainer(records, '/db'), db);
  assert.equal(findContainer(records, '/app/database'), db);
  assert.equal(findContainer(records, 'abc123def456a'), web, 'a prefix longer than a short ID');
  assert.equal(findContainer(records, 'ff'), app);
  assert.throws(() => findContainer(records, 'abc123def456'), { name: 'InvalidParameterError', message: 'multiple IDs found with provided prefix: abc123def456' });
  assert.throws(() => findContainer(records, 'abc'), { message: /multiple IDs/ });
  assert.equal(findContainer(records, 'nosuch'), undefined);
  assert.equal(findContainer(records, ''), undefined);
});

test('the name and short-ID indexes follow set, delete and rename', () => {
  const records = new ContainerRecords();
  const web = record(id('abc123def456aa'), 'web');
  records.set(web.id, web);
  records.rename(web, 'front');
  assert.equal(web.name, 'front');
  assert.equal(findContainer(records, 'web'), undefined);
  assert.equal(findContainer(records, 'front'), web);
  assert.ok(nameTaken(records, 'front') && !nameTaken(records, 'web'));
  assert.throws(() => checkNameFree(records, 'front'), { name: 'ConflictError', message: /The container name "\/front" is already in use by container "abc123def456aa0/ });
  // A record replaced under its ID (reloaded) is the one found, by its new name only.
  const again = record(web.id, 'back');
  records.set(web.id, again);
  assert.equal(findContainer(records, 'front'), undefined);
  assert.equal(findContainer(records, 'back'), again);
  assert.equal(findContainer(records, 'abc123def456'), again);
  records.delete(web.id);
  assert.equal(findContainer(records, 'back'), undefined);
  assert.equal(findContainer(records, 'abc123def456'), undefined);
  assert.equal(records.size, 0);
});

test('lookups by name and short ID among 1,000 containers find each one', () => {
  const records = new ContainerRecords();
  const all = Array.from({ length: 1000 }, (_, i) => record(i.toString(16).padStart(12, '0').padEnd(64, '9'), `c${i}`));
  for (const c of all) records.set(c.id, c);
  for (const c of all) {
    assert.equal(findContainer(records, c.name), c);
    assert.equal(findContainer(records, c.id.slice(0, 12)), c);
  }
});
