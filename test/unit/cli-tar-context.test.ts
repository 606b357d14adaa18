// `berth build`'s context: what packPath sends with contextIgnore, the daemon's .dockerignore rules (Docker's).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { contextIgnore, packPath } from '../../src/cli/tar-context';
import { tempDir } from '../helpers/tmp';
import { writeContext, IGNORE_RULES_CONTEXT, IGNORE_RULES_KEPT } from '../helpers/build';

async function names(stream: Readable): Promise<string[]> {
  const out: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (h, s, next) => { out.push(h.type === 'directory' ? `${h.name}/` : h.name); s.on('end', next); s.resume(); });
  const done = new Promise<void>((resolve, reject) => { extract.on('finish', () => resolve()); extract.on('error', reject); });
  stream.pipe(extract);
  await done;
  return out.sort();
}

test('.dockerignore: ** patterns, ! exceptions, directories; the Dockerfile and .dockerignore sent even when excluded', async () => {
  const root = writeContext(tempDir('berth-tar-context-'), 'ctx', IGNORE_RULES_CONTEXT);
  const dirs = ['keep/', 'nested/', 'nested/a/', 'nested/a/b/', 'sub/'];
  assert.deepEqual(await names(packPath(root, contextIgnore(root, 'Dockerfile'))), ['.dockerignore', 'Dockerfile', ...IGNORE_RULES_KEPT, ...dirs].sort());
});

test('a Dockerfile inside an excluded directory is still sent; an excluded directory without exceptions is not walked', async () => {
  const root = writeContext(tempDir('berth-tar-context-'), 'ctx', { '.dockerignore': 'docker\nbig\n', 'docker/Dockerfile.app': 'FROM busybox\n', 'docker/other': 'x\n', 'big/f': 'x\n', 'a.txt': 'a\n' });
  const walked: string[] = [];
  const ignore = contextIgnore(root, 'docker/Dockerfile.app');
  const descend = (rel: string) => { walked.push(rel); return ignore.descend!(rel); };
  assert.deepEqual(await names(packPath(root, { ...ignore, descend })), ['.dockerignore', 'a.txt', 'docker/Dockerfile.app']);
  assert.deepEqual(walked.sort(), ['big', 'docker']);
  assert.equal(ignore.descend!('big'), false);
  assert.equal(ignore.descend!('docker'), true);
});

test('no .dockerignore: everything is sent; a bad pattern is refused by name', async () => {
  const root = writeContext(tempDir('berth-tar-context-'), 'ctx', { Dockerfile: 'FROM busybox\n', 'x/y': 'y\n' });
  assert.deepEqual(await names(packPath(root, contextIgnore(root, 'Dockerfile'))), ['Dockerfile', 'x/', 'x/y']);
  fs.writeFileSync(path.join(root, '.dockerignore'), '!\n');
  assert.throws(() => contextIgnore(root, 'Dockerfile'), /illegal exclusion pattern/);
});
