// The Debian bootstrap below its adapter: which references it makes (and as which suite), the mmdebstrap options,
// the tarball made once and reused from the cache, concurrent requests sharing one run, the image's config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debianTarget, DebianBootstrap, bootstrapSettings, type BootstrapImageStore } from '../../src/image/bootstrap';
import { mmdebstrapArgs, type MmdebstrapOptions } from '../../src/host/mmdebstrap';
import { tempDir } from '../helpers/tmp';

test('debian:<suite>[-slim] and Docker\'s number and alias tags; anything else is not bootstrapped', () => {
  const t = (ref: string) => { const x = debianTarget(ref); return x && `${x.suite}${x.slim ? '-slim' : ''} ${x.ref}`; };
  assert.equal(t('debian:bookworm'), 'bookworm docker.io/library/debian:bookworm');
  assert.equal(t('debian:bookworm-slim'), 'bookworm-slim docker.io/library/debian:bookworm-slim');
  assert.equal(t('docker.io/library/debian:12-slim'), 'bookworm-slim docker.io/library/debian:12-slim');
  assert.equal(t('debian:trixie'), 'trixie docker.io/library/debian:trixie');
  assert.equal(t('debian'), 'trixie docker.io/library/debian:latest');
  assert.equal(t('debian:slim'), 'trixie-slim docker.io/library/debian:slim');
  for (const ref of ['alpine:3', 'debian:nosuch', 'myregistry:5000/debian:bookworm', 'library/ubuntu:24.04', 'debian@sha256:' + 'a'.repeat(64), 'not a ref']) {
    assert.equal(debianTarget(ref), undefined, ref);
  }
});

test('mmdebstrap options: minbase, merged-/usr without usrmerge, no host files, slim excludes as dpkg options', () => {
  const args = mmdebstrapArgs({ suite: 'bookworm', variant: 'minbase', sources: ['deb http://m/debian bookworm main', 'deb http://s/debian-security bookworm-security main'], output: '/o.tar', dpkgOptions: ['path-exclude=/usr/share/doc/*'] });
  assert.ok(args.includes('--variant=minbase'));
  assert.ok(args.includes('--hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr'));
  assert.ok(args.includes('--dpkgopt=path-exclude=/usr/share/doc/*'));
  assert.ok(args.some((a) => a.startsWith('--customize-hook=rm -f "$1/etc/resolv.conf" "$1/etc/hostname"')));
  assert.deepEqual(args.slice(-4), ['bookworm', '/o.tar', 'deb http://m/debian bookworm main', 'deb http://s/debian-security bookworm-security main']);
});

test('the tarball is made once and kept; concurrent requests share one run; the image is tagged and dated', async () => {
  const cacheDir = tempDir('berth-bootstrap-cache-');
  const runs: MmdebstrapOptions[] = [];
  const imported: Array<{ bytes: string; opts: Parameters<BootstrapImageStore['importImage']>[1] }> = [];
  const tags = new Map<string, string>();
  const images: BootstrapImageStore = {
    has: (ref) => tags.has(ref),
    resolveId: (ref) => tags.get(ref)!,
    importImage: async (body, opts) => {
      let bytes = '';
      for await (const c of body) bytes += c;
      imported.push({ bytes, opts });
      const id = `sha256:${String(imported.length).padStart(64, '0')}`;
      tags.set(`docker.io/library/${opts.repo}:${opts.tag}`, id);
      return id;
    },
  };
  const mmdebstrap = async (o: MmdebstrapOptions) => {
    runs.push(o);
    await new Promise((r) => setTimeout(r, 50));
    o.onLine('I: success');
    fs.writeFileSync(o.output, `rootfs of ${o.suite} ${o.dpkgOptions.length}`);
  };
  const b = new DebianBootstrap({ images, cacheDir, mirror: 'http://m/debian', securityMirror: 'http://s/debian-security', epoch: 1700000000, architecture: 'amd64', mmdebstrap });
  fs.writeFileSync(path.join(cacheDir, 'debian-bookworm-slim-amd64-0-m_debian-r1.tar'), 'made with older options');
  const msgs: string[] = [];
  const signal = new AbortController().signal;
  const [id1, id2] = await Promise.all([
    b.bootstrap('debian:bookworm-slim', (m) => msgs.push(m.status ?? ''), signal),
    b.bootstrap('debian:bookworm-slim', (m) => msgs.push(m.status ?? ''), signal),
  ]);
  assert.equal(id1, id2);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].epoch, 1700000000);
  assert.deepEqual(runs[0].sources, ['deb http://m/debian bookworm main', 'deb http://m/debian bookworm-updates main', 'deb http://s/debian-security bookworm-security main']);
  assert.ok(runs[0].dpkgOptions.includes('path-exclude=/usr/share/man/*'));
  assert.equal(imported.length, 1);
  assert.equal(fs.readdirSync(cacheDir).filter((n) => n.endsWith('-r1.tar')).length, 0, 'the stale tarball is gone');
  assert.deepEqual(imported[0].opts.changes, ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["bash"]']);
  assert.equal(imported[0].opts.created, '2023-11-14T22:13:20Z');
  assert.ok(msgs.includes('I: success'));
  // The image gone, the tarball is still there: imported again without running mmdebstrap.
  tags.clear();
  const id3 = await b.bootstrap('debian:bookworm-slim', (m) => msgs.push(m.status ?? ''), signal);
  assert.equal(runs.length, 1);
  assert.equal(imported[1].bytes, imported[0].bytes);
  assert.notEqual(id3, undefined);
  assert.ok(msgs.some((m) => /Using the cached bootstrap/.test(m)));
  // No work directories are left beside the tarball.
  assert.deepEqual(fs.readdirSync(cacheDir).filter((n) => n.startsWith('.work-')), []);
  await assert.rejects(b.bootstrap('alpine:3', () => {}, signal), /only Debian's official images/);
});

test('a failed mmdebstrap leaves no tarball behind', async () => {
  const cacheDir = tempDir('berth-bootstrap-fail-');
  const images: BootstrapImageStore = { has: () => false, resolveId: () => '', importImage: async () => assert.fail('not imported') };
  const b = new DebianBootstrap({ images, cacheDir, mirror: 'http://m/debian', securityMirror: 'http://s/debian-security', epoch: 0, architecture: 'amd64', mmdebstrap: async (o) => { fs.writeFileSync(o.output, 'partial'); throw new Error('mirror unreachable'); } });
  await assert.rejects(b.bootstrap('debian:bookworm', () => {}, new AbortController().signal), /mirror unreachable/);
  assert.deepEqual(fs.readdirSync(cacheDir), []);
  assert.equal(bootstrapSettings({}, '/data').cacheDir, path.join('/data', 'bootstrap'));
  assert.equal(bootstrapSettings({ SOURCE_DATE_EPOCH: '12' }, '/d').epoch, 12);
});
