// Which compose files a project is made of: -f as given, else COMPOSE_FILE, else the first of
// compose.yaml/compose.yml/docker-compose.yml/docker-compose.yaml found in cwd or a parent directory, with
// its compose.override.* / docker-compose.override.* beside it.
import { existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { ComposeFileError } from './errors';

const NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const OVERRIDES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** `-` stands for stdin: kept as `-` for the caller to read. */
export function composeFiles(given: string[], cwd: string, env: { COMPOSE_FILE?: string; COMPOSE_PATH_SEPARATOR?: string }): string[] {
  if (given.length > 0) return given.map((f) => (f === '-' ? f : resolve(cwd, f)));
  if (env.COMPOSE_FILE) {
    const sep = env.COMPOSE_PATH_SEPARATOR || delimiter;
    return env.COMPOSE_FILE.split(sep).filter((f) => f !== '').map((f) => resolve(cwd, f));
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const found = NAMES.map((n) => join(dir, n)).find(isFile);
    if (found) {
      const override = OVERRIDES.map((n) => join(dir, n)).find(isFile);
      return override ? [found, override] : [found];
    }
    if (dirname(dir) === dir) break;
  }
  throw new ComposeFileError(undefined, `no configuration file provided: not found (looked for ${NAMES.join(', ')} in ${cwd} and its parents)`);
}
