// Reproducible builds: the same context built on two berthd daemons with separate data roots gives the same image
// ID and the same layer digests (mtimes clamped to SOURCE_DATE_EPOCH, 0 by default; nothing of the build host in
// the config); SOURCE_DATE_EPOCH given as a build arg dates the image; BERTH_REPRODUCIBLE=0 opts out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon';
import { tempDir } from '../helpers/tmp';
import type { ImageInspect, SaveManifestEntry } from '../helpers/api-types';

const a = new TestDaemon('build-repro-a');
const b = new TestDaemon('build-repro-b');
const work = tempDir('berth-build-repro-');
const ctx = path.join(work, 'ctx');

function buildId(daemon: TestDaemon, args: string[]) {
  const r = daemon.docker(['build', '-q', ...args, ctx], { timeout: 300_000 });
  if (r.code !== 0) throw new Error(`docker build exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}
const inspect = (daemon: TestDaemon, ref: string): ImageInspect => (JSON.parse(daemon.dockerOk(['image', 'inspect', ref])) as ImageInspect[])[0];

before(async () => {
  await a.startWithBusybox();
  await b.start();
  // The same base on both: saved from one and loaded into the other (an import is dated "now").
  const tarFile = path.join(work, 'busybox.tar');
  a.dockerOk(['save', '-o', tarFile, 'busybox:latest']);
  b.dockerOk(['load', '-i', tarFile]);
  assert.equal(inspect(b, 'busybox').Id, inspect(a, 'busybox').Id);

  fs.mkdirSync(path.join(ctx, 'app'), { recursive: true });
  fs.writeFileSync(path.join(ctx, 'app', 'main.txt'), 'main\n');
  fs.writeFileSync(path.join(ctx, 'app', 'other.txt'), 'other\n');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox
WORKDIR /srv
COPY app/ ./app/
ADD app/main.txt /added.txt
RUN echo built > /built-at && touch /srv/app/touched && mkdir -p /var/cache/x && echo cached > /var/cache/x/file
RUN rm /srv/app/other.txt
ENV DONE=1
CMD ["cat", "/srv/app/main.txt"]
`);
});
after(async () => {
  await a.cleanup();
  await b.cleanup();
});

test('the same context on two daemons: the same image ID and the same layer digests', () => {
  // Different wall-clock mtimes in each daemon's copy of the context do not matter either.
  const idA = buildId(a, ['-t', 'repro:1']);
  const later = new Date(Date.now() + 7200_000);
  fs.utimesSync(path.join(ctx, 'app', 'main.txt'), later, later);
  const idB = buildId(b, ['-t', 'repro:1']);
  assert.equal(idB, idA);
  const ia = inspect(a, 'repro:1');
  const ib = inspect(b, 'repro:1');
  assert.deepEqual(ib.RootFS.Layers, ia.RootFS.Layers);
  assert.equal(ia.Created, '1970-01-01T00:00:00Z');
  assert.equal(ia.Config.Hostname, '');
  // The files the RUN wrote carry the clamped mtime; the whiteout of the removed file is in the layer.
  assert.equal(a.dockerOk(['run', '--rm', 'repro:1', 'stat', '-c', '%Y', '/built-at', '/srv/app/touched']), '0\n0\n');
  assert.equal(a.dockerOk(['run', '--rm', 'repro:1', 'ls', '/srv/app']), 'main.txt\ntouched\n');
  // Built again without the cache on one daemon: still the same.
  assert.equal(buildId(a, ['--no-cache']), idA);
  // docker save of both gives the same layer tar digests.
  const layersOf = (daemon: TestDaemon) => {
    const file = path.join(work, `${daemon === a ? 'a' : 'b'}.tar`);
    daemon.dockerOk(['save', '-o', file, 'repro:1']);
    const list = execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' });
    return (JSON.parse(list) as SaveManifestEntry[])[0].Layers;
  };
  assert.deepEqual(layersOf(b), layersOf(a));
});

test('SOURCE_DATE_EPOCH dates the image and clamps the mtimes; BERTH_REPRODUCIBLE=0 opts out', () => {
  const epoch = 1700000000;
  const id = buildId(a, ['--build-arg', `SOURCE_DATE_EPOCH=${epoch}`, '-t', 'repro:epoch']);
  assert.equal(buildId(b, ['--build-arg', `SOURCE_DATE_EPOCH=${epoch}`]), id);
  const img = inspect(a, 'repro:epoch');
  assert.equal(img.Created, '2023-11-14T22:13:20Z');
  assert.equal(a.dockerOk(['run', '--rm', 'repro:epoch', 'stat', '-c', '%Y', '/built-at']), `${epoch}\n`);

  const off1 = buildId(a, ['--build-arg', 'BERTH_REPRODUCIBLE=0', '--no-cache', '-t', 'repro:off']);
  const created = Date.parse(inspect(a, 'repro:off').Created);
  assert.ok(created > Date.now() - 3600_000, 'dated now');
  const builtAt = Number(a.dockerOk(['run', '--rm', 'repro:off', 'stat', '-c', '%Y', '/built-at']).trim());
  assert.ok(builtAt > epoch, 'mtimes kept');
  const off2 = buildId(b, ['--build-arg', 'BERTH_REPRODUCIBLE=0', '--no-cache']);
  assert.notEqual(off2, off1);
});
