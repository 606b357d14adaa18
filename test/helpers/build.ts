// Build tests' helpers: contexts written from a map of files, and `docker build` through a TestDaemon.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestDaemon, RunOpts, RunResult } from './daemon';
import type { ImageInspect } from './api-types';

/** Writes a build context below `root`: { 'path': content (string|Buffer) }; a trailing '/' makes a directory. */
export function writeContext(root: string, name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    if (rel.endsWith('/')) { fs.mkdirSync(abs, { recursive: true }); continue; }
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
  return dir;
}

/** A `docker build` run: its output, and `all` — stdout and stderr without stderr's colour codes. */
export interface BuildResult extends RunResult {
  all: string;
}

/** `docker build` on daemon `d`: { code, stdout, stderr, all } with `all` the output without stderr's colour codes. */
export function builds(d: TestDaemon) {
  const build = (args: string[], opts?: RunOpts): BuildResult => {
    const r = d.docker(['build', ...args], { timeout: 300_000, ...opts });
    // A step's stderr comes in chunks, each wrapped in colour codes as Docker's classic builder wraps them.
    return { ...r, all: `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '') };
  };
  const buildOk = (args: string[], opts?: RunOpts): BuildResult => {
    const r = build(args, opts);
    if (r.code !== 0) throw new Error(`docker build ${args.join(' ')} exited ${r.code}:\n${r.all}`);
    return r;
  };
  const inspect = (ref: string): ImageInspect => (JSON.parse(d.dockerOk(['image', 'inspect', ref])) as ImageInspect[])[0];
  return { build, buildOk, inspect };
}

/**
 * A context exercising Docker's .dockerignore rules (comments, `**`, `!` exceptions, directories, top-level-only
 * patterns, an excluded Dockerfile and .dockerignore), used by the daemon's test (build-cache) and berth build's
 * (cli-tar-context) alike. IGNORE_RULES_KEPT: the regular files that stay, the Dockerfile and .dockerignore aside.
 */
export const IGNORE_RULES_CONTEXT: Record<string, string> = {
  '.dockerignore': '# comment\n**/*.log\n!keep/important.log\nsecret/\n*.tmp\nDockerfile\n.dockerignore\nnested/**/deep.txt\nnode_modules\n',
  Dockerfile: 'FROM busybox\nCOPY . /ctx/\nRUN cd /ctx && find . -type f | sort > /listing\n',
  'app.js': 'app\n',
  'debug.log': 'x\n',
  'sub/trace.log': 'x\n',
  'keep/important.log': 'kept\n',
  'keep/other.log': 'x\n',
  'secret/key': 'x\n',
  'scratch.tmp': 'x\n',
  'sub/scratch.tmp': 'not matched by *.tmp (only at the top)\n',
  'nested/a/b/deep.txt': 'x\n',
  'nested/shallow.txt': 'kept\n',
  'node_modules/dep/index.js': 'x\n',
};
export const IGNORE_RULES_KEPT = ['app.js', 'keep/important.log', 'nested/shallow.txt', 'sub/scratch.tmp'];
