// How `berth` starts: from its single bundled file (dist/cli/berth.js, made by `make build`) with V8's code cache
// for it, so a short command pays neither for resolving some forty modules nor for compiling them; without a
// current bundle (a bare `tsc` build) it starts from main.js as before. Node ≥ 22.1's module.enableCompileCache()
// would give the cache for plain modules too; Node 20, which Berth supports, does not have it.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** The bundle `make build` writes beside main.js, and its code cache beside it. */
export const BUNDLE_FILE = path.join(__dirname, 'berth.js');
export const cacheFileOf = (bundle: string) => `${bundle}.cache`;

interface CliEntry { runAsProgram(): void }

/**
 * The bundle compiled as CommonJS compiles a module (the same five parameters), from V8's code cache when one
 * is given. The wrapper stays on the first line, so stack traces keep the bundle's line numbers; main.ts's
 * `#!` line, legal only at the very start of a script, becomes a comment as Node's own loader treats it.
 */
export function compileBundle(file: string, source: string, cachedData?: Buffer): vm.Script {
  const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
  return new vm.Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`,
    { filename: file, cachedData });
}

/** Whether the bundle was made from the modules there now: tsc rewrites every module, main.js included, on each build. */
export function bundleIsCurrent(bundle: string, main: string, stat: (p: string) => fs.Stats | undefined = statOrUndefined): boolean {
  const b = stat(bundle);
  const m = stat(main);
  return !!b && !!m && b.mtimeMs >= m.mtimeMs;
}

/** Runs the bundle's top level and returns its exports (main.ts's). A cache V8 rejects (another Node) only costs time. */
export function loadBundle(file: string): CliEntry {
  let cachedData: Buffer | undefined;
  try { cachedData = fs.readFileSync(cacheFileOf(file)); } catch { /* no cache: V8 compiles from source */ }
  const wrapper = compileBundle(file, fs.readFileSync(file, 'utf8'), cachedData).runInThisContext() as
    (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return module.exports as CliEntry;
}

function statOrUndefined(p: string): fs.Stats | undefined {
  return fs.statSync(p, { throwIfNoEntry: false });
}

/** bin/berth's one call. */
export function launch(): void {
  const entry: CliEntry = bundleIsCurrent(BUNDLE_FILE, path.join(__dirname, 'main.js'))
    ? loadBundle(BUNDLE_FILE)
    : require('./main') as CliEntry;
  entry.runAsProgram();
}
