// Temporary compose projects for the loader's unit tests: files written into a fresh directory, loaded, removed.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { loadProject, type LoadOptions, type LoadedProject } from '../../src/compose/load/index';

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A directory (named `name` inside a temp dir, so the project name is predictable) holding the files given. */
export function projectDir(files: Record<string, string>, name = 'app'): string {
  const root = mkdtempSync(join(tmpdir(), 'compose-load-'));
  made.push(root);
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

export function load(dir: string, options: Partial<LoadOptions> = {}): Promise<LoadedProject> {
  return loadProject({ files: [], env: {}, cwd: dir, ...options });
}

/** Loads a one-file project written from `compose` (and any other files). */
export async function loadText(compose: string, others: Record<string, string> = {}, options: Partial<LoadOptions> = {}): Promise<LoadedProject> {
  const dir = projectDir({ 'compose.yaml': compose, ...others });
  return load(dir, options);
}
