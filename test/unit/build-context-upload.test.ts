// A build context upload: the same bytes as the kept directory's last upload (a rebuild with nothing changed) find
// everything in place, unpacked and with its COPY checksums; different bytes are unpacked and forget the checksums.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { BuildContext } from '../../src/build/context';
import { ContextDirectories } from '../../src/build/context-directories';
import { dockerignoreMatcher, parseDockerignore } from '../../src/build/dockerignore';
import { makeTar } from './image-helpers';
import { tempDir } from '../helpers/tmp';

const parseIgnore = (text: string) => dockerignoreMatcher(parseDockerignore(text));

test('an identical upload reuses the kept directory as it is; a changed one is unpacked again', async () => {
  const dirs = new ContextDirectories(path.join(tempDir('berth-ctxupload-'), 'contexts'));
  await dirs.init();
  const files = [
    { name: 'Dockerfile', data: 'FROM scratch\nCOPY a.txt /\n' },
    // Listed, the Dockerfile and .dockerignore leave the directory too (as moby's removeDockerfile does).
    { name: '.dockerignore', data: 'secret\nDockerfile\n.dockerignore\n' },
    { name: 'other.Dockerfile', data: 'FROM scratch\n' },
    { name: 'a.txt', data: 'one\n' },
    { name: 'secret', data: 'never kept\n' },
  ];
  const tar = await makeTar(files);
  let computed = 0;
  const hashOf = (ctx: BuildContext) => ctx.sourceHash(path.join(ctx.root, 'a.txt'), 'clamp=0', async () => `file:${++computed}`);

  const first = await BuildContext.fromUpload(Readable.from([tar]), dirs, 'Dockerfile', parseIgnore);
  assert.equal(first.dockerfileText, 'FROM scratch\nCOPY a.txt /\n');
  assert.equal(fs.existsSync(path.join(first.root, 'secret')), false, '.dockerignore applied');
  assert.equal(fs.existsSync(path.join(first.root, 'Dockerfile')), false);
  assert.equal(await hashOf(first), 'file:1');
  assert.equal(await hashOf(first), 'file:1', 'computed once');
  const root = first.root;
  const ino = fs.statSync(path.join(root, 'a.txt')).ino;
  await first.close();

  // The same bytes, even gzipped by the client: the same directory, untouched, and the checksum already known.
  const again = await BuildContext.fromUpload(Readable.from([gzipSync(tar)]), dirs, 'Dockerfile', parseIgnore);
  assert.equal(again.root, root);
  assert.equal(fs.statSync(path.join(root, 'a.txt')).ino, ino);
  assert.equal(fs.existsSync(path.join(root, 'secret')), false);
  assert.equal(again.dockerfileText, 'FROM scratch\nCOPY a.txt /\n', 'the Dockerfile as read before .dockerignore removed it');
  assert.equal(await hashOf(again), 'file:1');
  await again.close();

  // The same bytes with another Dockerfile named: unpacked again (what was read for the first name does not answer).
  const alt = await BuildContext.fromUpload(Readable.from([tar]), dirs, 'other.Dockerfile', parseIgnore);
  assert.equal(alt.dockerfileText, 'FROM scratch\n');
  assert.equal(await hashOf(alt), 'file:2');
  await alt.close();

  // One byte changed: unpacked again into the same directory, and the checksum computed anew.
  const changed = await makeTar(files.map((f) => (f.name === 'a.txt' ? { ...f, data: 'two\n' } : f)));
  const third = await BuildContext.fromUpload(Readable.from([changed]), dirs, 'Dockerfile', parseIgnore);
  assert.equal(third.root, root);
  assert.equal(fs.readFileSync(path.join(root, 'a.txt'), 'utf8'), 'two\n');
  assert.equal(await hashOf(third), 'file:3');
  await third.close();

  // A failed upload (no Dockerfile) leaves no directory that a later identical upload could take for complete.
  const noDockerfile = await makeTar([{ name: 'a.txt', data: 'two\n' }]);
  await assert.rejects(BuildContext.fromUpload(Readable.from([noDockerfile]), dirs, 'Dockerfile', parseIgnore), /Cannot locate specified Dockerfile/);
  await assert.rejects(BuildContext.fromUpload(Readable.from([noDockerfile]), dirs, 'Dockerfile', parseIgnore), /Cannot locate specified Dockerfile/);
  await assert.rejects(BuildContext.fromUpload(Readable.from([Buffer.alloc(0)]), dirs, 'Dockerfile', parseIgnore), /the build context is empty/);
  await assert.rejects(BuildContext.fromUpload(Readable.from([Buffer.from('not a tar at all')]), dirs, 'Dockerfile', parseIgnore), /not a tar archive/);
});
