// The build cache through the docker CLI v28 (classic builder) against a real berthd: reuse when the parent, the
// instruction and the copied files' content and metadata match; one changed file rebuilds from its step on; the
// cache survives a daemon restart; `docker builder prune`. Also .dockerignore (Docker's rules: `**`, `!`) and
// multi-stage builds with COPY --from a stage (by name or index) or an image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon } from '../helpers/daemon';
import { tempDir } from '../helpers/tmp';
import { writeContext, builds, IGNORE_RULES_CONTEXT, IGNORE_RULES_KEPT } from '../helpers/build';

const d = new TestDaemon('build-cache');
const work = tempDir('berth-build-cache-');

const context = (name: string, files: Record<string, string>) => writeContext(work, name, files);
const { inspect, buildOk: buildOkResult } = builds(d);
const buildOk = (args: string[]) => buildOkResult(args).stdout;
/** For each step of a build's output: "cache" when it was reused, "run" when executed, "-" for FROM and global ARGs. */
function stepKinds(out: string) {
  const parts = out.split(/^Step \d+\/\d+ : /m).slice(1);
  return parts.map((p) => (/^FROM /.test(p) || !/ ---> /.test(p) ? '-' : / ---> Using cache/.test(p) ? 'cache' : 'run'));
}

before(async () => { await d.startWithBusybox(); });
after(async () => { await d.cleanup(); });

const DF = `FROM busybox
ARG MSG=one
COPY a.txt /a.txt
RUN cat /a.txt > /from-a
COPY dir/ /dir/
RUN ls /dir > /listing
ENV LAST=1
`;

test('a rebuild reuses every step; a changed file rebuilds from its COPY on; mtimes alone do not count', () => {
  const ctx = context('rules', { Dockerfile: DF, 'a.txt': 'a1\n', 'dir/x.txt': 'x1\n', 'dir/y.txt': 'y\n' });
  const first = buildOk(['-t', 'cache/rules', ctx]);
  assert.deepEqual(stepKinds(first), ['-', 'run', 'run', 'run', 'run', 'run', 'run']);
  const id1 = inspect('cache/rules').Id;

  const again = buildOk(['-t', 'cache/rules', ctx]);
  assert.deepEqual(stepKinds(again), ['-', 'cache', 'cache', 'cache', 'cache', 'cache', 'cache']);
  assert.equal(inspect('cache/rules').Id, id1);

  // A changed file in the second COPY: the steps before it are reused, it and everything after run again.
  fs.writeFileSync(path.join(ctx, 'dir/x.txt'), 'x2\n');
  const changed = buildOk(['-t', 'cache/rules', ctx]);
  assert.deepEqual(stepKinds(changed), ['-', 'cache', 'cache', 'cache', 'run', 'run', 'run']);
  const id2 = inspect('cache/rules').Id;
  assert.notEqual(id2, id1);

  // Touching a file (mtime only) keeps the cache: mtimes are clamped to SOURCE_DATE_EPOCH.
  const later = new Date(Date.now() + 3600_000);
  fs.utimesSync(path.join(ctx, 'a.txt'), later, later);
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'cache', 'cache', 'cache', 'cache', 'cache', 'cache']);

  // Metadata that reaches the layer counts: a mode change of the first file rebuilds from the first COPY.
  fs.chmodSync(path.join(ctx, 'a.txt'), 0o600);
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'cache', 'run', 'run', 'run', 'run', 'run']);
  fs.chmodSync(path.join(ctx, 'a.txt'), 0o644);
  // A new file in a copied directory counts too.
  fs.writeFileSync(path.join(ctx, 'dir/z.txt'), 'z\n');
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'cache', 'cache', 'cache', 'run', 'run', 'run']);
  fs.rmSync(path.join(ctx, 'dir/z.txt'));
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'cache', 'cache', 'cache', 'cache', 'cache', 'cache']);
  // New content of the same size and mtime misses (the daemon keeps the unpacked context from one build to the
  // next and must not take the file for unchanged), and going back to the old content hits again.
  const aFile = path.join(ctx, 'a.txt');
  const aStat = fs.statSync(aFile);
  fs.writeFileSync(aFile, 'a9\n');
  fs.utimesSync(aFile, aStat.atime, aStat.mtime);
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'cache', 'run', 'run', 'run', 'run', 'run']);
  fs.writeFileSync(aFile, 'a1\n');
  fs.utimesSync(aFile, aStat.atime, aStat.mtime);
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'cache', 'cache', 'cache', 'cache', 'cache', 'cache']);

  // A different build arg changes the RUN steps (their environment), and so the steps after it (a new parent).
  assert.deepEqual(stepKinds(buildOk(['--build-arg', 'MSG=two', ctx])), ['-', 'cache', 'cache', 'run', 'run', 'run', 'run']);
  // A changed instruction rebuilds from there.
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), DF.replace('ENV LAST=1', 'ENV LAST=2'));
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'cache', 'cache', 'cache', 'cache', 'cache', 'run']);
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), DF);
  assert.equal(d.dockerOk(['run', '--rm', 'cache/rules', 'cat', '/from-a', '/listing']), 'a1\nx.txt\ny.txt\n');
});

test('the cache survives a daemon restart; docker builder prune forgets it', async () => {
  const ctx = path.join(work, 'rules');
  await d.stop();
  await d.start();
  const out = buildOk(['-t', 'cache/rules', ctx]);
  assert.deepEqual(stepKinds(out), ['-', 'cache', 'cache', 'cache', 'cache', 'cache', 'cache']);

  // An untagged build's entries are not in use: prune drops them, and the next build of it runs again.
  const other = context('untagged', { Dockerfile: 'FROM busybox\nRUN echo untagged > /u\n' });
  buildOk([other]);
  assert.deepEqual(stepKinds(buildOk([other])), ['-', 'cache']);
  const df = d.dockerOk(['system', 'df']);
  assert.match(df, /^Build Cache\s+\d+/m);
  // The unpacked context kept for the next build takes disk too: a record of its own, as BuildKit's source.local.
  assert.match(d.dockerOk(['system', 'df', '-v']), /^\S+\s+source\.local\s+\d/m);
  const pruned = d.dockerOk(['builder', 'prune', '-f']);
  assert.match(pruned, /^Deleted build cache objects:\nsha256:[0-9a-f]{64}$/m);
  assert.match(pruned, /^Total reclaimed space: /m);
  assert.deepEqual(stepKinds(buildOk([other])), ['-', 'run']);
  // The tagged image's steps are in use and stay, until `prune -a`.
  assert.deepEqual(stepKinds(buildOk(['-t', 'cache/rules', ctx])), ['-', 'cache', 'cache', 'cache', 'cache', 'cache', 'cache']);
  d.dockerOk(['builder', 'prune', '-a', '-f']);
  const id = inspect('cache/rules').Id;
  const rebuilt = buildOk(['-t', 'cache/rules', ctx]);
  assert.deepEqual(stepKinds(rebuilt), ['-', 'run', 'run', 'run', 'run', 'run', 'run']);
  assert.equal(inspect('cache/rules').Id, id, 'rebuilt without the cache, the image is the same (reproducible)');
});

test('.dockerignore: ** patterns, ! exceptions, directories; an ignored file does not touch the cache', () => {
  const ctx = context('ignore', IGNORE_RULES_CONTEXT);
  buildOk(['-t', 'cache/ignore', ctx]);
  assert.equal(d.dockerOk(['run', '--rm', 'cache/ignore', 'cat', '/listing']), [...IGNORE_RULES_KEPT.map((f) => `./${f}`), ''].join('\n'));
  fs.writeFileSync(path.join(ctx, 'debug.log'), 'changed but ignored\n');
  fs.writeFileSync(path.join(ctx, 'secret/key'), 'changed but ignored\n');
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'cache', 'cache']);
  fs.writeFileSync(path.join(ctx, 'keep/important.log'), 'changed and kept\n');
  assert.deepEqual(stepKinds(buildOk([ctx])), ['-', 'run', 'run']);
});

test('multi-stage: COPY --from a stage by name and by index, and from an image; only the last stage ships', () => {
  const ctx = context('multi', {
    'src.txt': 'source\n',
    Dockerfile: `ARG BASE=busybox
FROM \${BASE} AS builder
COPY src.txt /work/
RUN tr a-z A-Z < /work/src.txt > /work/out.txt && dd if=/dev/zero of=/work/big bs=1024 count=4096 2>/dev/null
FROM builder AS tester
RUN grep -q SOURCE /work/out.txt && echo tested > /work/tested
FROM scratch
COPY --from=builder /work/out.txt /out.txt
COPY --from=1 /work/tested /tested
COPY --from=busybox /bin/busybox /bin/sh
CMD ["/bin/sh", "-c", "cat /out.txt /tested"]
`,
  });
  const out = buildOk(['-t', 'cache/multi', ctx]);
  assert.equal((out.match(/^Successfully built/gm) || []).length, 1);
  assert.equal(d.dockerOk(['run', '--rm', 'cache/multi']), 'SOURCE\ntested\n');
  const img = inspect('cache/multi');
  assert.equal(img.RootFS.Layers.length, 3);
  assert.ok(img.Size < 3 << 20, `the builder's 4 MiB file stays behind (size ${img.Size})`);
  assert.deepEqual(stepKinds(buildOk([ctx])).filter((k) => k === 'run'), []);
});
