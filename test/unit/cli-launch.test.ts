// How `berth` starts: the bundle is used only when it is newer than the modules tsc wrote, a code cache is
// optional (a foreign one is only slower), the bundle's requires of the lazily loaded components point at
// their built modules, and the real bundle runs the CLI (its own verbs and compose's, loaded from outside it).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { bundleIsCurrent, cacheFileOf, compileBundle, loadBundle } from '../../src/cli/launch';
import { Cli, type CliStreams } from '../../src/cli/command';
import { bundleCli, externalSpecifier } from '../../src/tools/bundle-cli';
import { tempDir } from '../helpers/tmp';

test('the bundle is used only when it is at least as new as main.js', () => {
  const times: Record<string, number> = { '/d/berth.js': 2000, '/d/main.js': 1000, '/old/berth.js': 1000, '/old/main.js': 2000, '/nob/main.js': 1 };
  const stat = (p: string) => (p in times ? { mtimeMs: times[p]! } as fs.Stats : undefined);
  assert.equal(bundleIsCurrent('/d/berth.js', '/d/main.js', stat), true);
  assert.equal(bundleIsCurrent('/old/berth.js', '/old/main.js', stat), false, 'tsc ran after the bundle was made');
  assert.equal(bundleIsCurrent('/nob/berth.js', '/nob/main.js', stat), false, 'a bare tsc build has no bundle');
});

test('lazily loaded components are required from the built tree, relative to the bundle', () => {
  const dist = '/r/dist';
  const out = '/r/dist/cli';
  assert.equal(externalSpecifier('/r/dist/cli', '../compose/cli/main', dist, out), '../compose/cli/main');
  assert.equal(externalSpecifier('/r/dist/cli/commands', '../../registry/serve', dist, out), '../registry/serve');
  assert.equal(externalSpecifier('/r/dist/cli', '../host/check-config', dist, out), '../host/check-config');
  assert.equal(externalSpecifier('/r/dist/cli', './commands/run', dist, out), undefined);
  assert.equal(externalSpecifier('/r/dist/cli/commands', '../../wire/docker', dist, out), undefined);
  assert.equal(externalSpecifier('/r/dist/cli', 'commander', dist, out), undefined);
});

test('a bundle loads with its code cache, with a rejected one, and without one', () => {
  const dir = tempDir('berth-launch-');
  fs.writeFileSync(path.join(dir, 'beside.js'), 'module.exports = 42;\n');
  const file = path.join(dir, 'berth.js');
  const source = '#!/usr/bin/env node\nexports.runAsProgram = () => require("./beside");\nexports.file = __filename;\n';
  fs.writeFileSync(file, source);
  const cache = compileBundle(file, source).createCachedData();
  assert.equal(compileBundle(file, source, cache).cachedDataRejected, false);
  for (const cached of [cache, Buffer.from('not a V8 cache'), undefined]) {
    if (cached) fs.writeFileSync(cacheFileOf(file), cached); else fs.rmSync(cacheFileOf(file), { force: true });
    const entry = loadBundle(file) as unknown as { runAsProgram(): number; file: string };
    assert.equal(entry.runAsProgram(), 42, 'relative requires resolve beside the bundle');
    assert.equal(entry.file, file);
  }
});

test('the real bundle runs berth verbs and berth compose', async () => {
  const cliDir = path.join(__dirname, '..', '..', 'src', 'cli');
  await bundleCli(cliDir);
  const bundle = path.join(cliDir, 'berth.js');
  const text = fs.readFileSync(bundle, 'utf8');
  const relative = [...text.matchAll(/require\("(\.[^"]*)"\)/g)].map((m) => m[1]!);
  assert.ok(relative.length > 0);
  for (const spec of relative) assert.match(spec, /^\.\.\/(compose|registry|host|trust|dashboard)\//, `${spec} is bundled or a lazy component`);
  assert.equal(compileBundle(bundle, text, fs.readFileSync(cacheFileOf(bundle))).cachedDataRejected, false);
  const entry = loadBundle(bundle) as unknown as { main(argv: string[], cli: Cli): Promise<number> };
  const run = async (...args: string[]) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const streams = { stdin: new PassThrough(), stdout: out, stderr: out } as unknown as CliStreams;
    const code = await entry.main(['node', 'berth', ...args], new Cli(streams, {}));
    return { code, text: Buffer.concat(chunks).toString() };
  };
  const badFlag = await run('run', '--no-such-flag', 'busybox');
  assert.equal(badFlag.code, 125);
  assert.match(badFlag.text, /unknown flag: --no-such-flag/);
  const unknown = await run('nosuch');
  assert.equal(unknown.code, 1);
  assert.match(unknown.text, /'nosuch' is not a berth command/);
  const compose = await run('compose', 'version');
  assert.equal(compose.code, 0);
  assert.match(compose.text, /Docker Compose version/);
});
