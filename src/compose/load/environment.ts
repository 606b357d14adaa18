// The variables a project's files are interpolated with: the shell's environment, then the env files
// (.env in the project directory, or each --env-file in order), the shell winning, each value with its origin.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VariableSource } from './index';
import type { Lookup } from './interpolate';
import { readEnvFile } from './env-file';

export interface ProjectEnvironment {
  lookup: Lookup;
  /** The shell's environment over the env files' values (what COMPOSE_* settings are read from). */
  get(name: string): string | undefined;
  /** The env files actually read. */
  files: string[];
}

/**
 * `explicit` are --env-file paths (absolute); without them `<dir>/.env` is read for each directory given that
 * has one (the project directory, and the directory whose .env named COMPOSE_FILE), earlier ones winning.
 */
export function projectEnvironment(shell: NodeJS.ProcessEnv, projectDir: string | string[], explicit?: string[]): ProjectEnvironment {
  const fromShell: Lookup = (name) => {
    const v = shell[name];
    return v === undefined ? undefined : { value: v, source: 'shell' };
  };
  const source: VariableSource = explicit && explicit.length > 0 ? '--env-file' : '.env';
  const values: Record<string, string> = {};
  const read = (file: string, laterWins: boolean) => {
    // A file sees what earlier ones defined; the shell is the fallback for names no file defines.
    const parsed = readEnvFile(file, (name) => (name in values ? { value: values[name], source } : fromShell(name)));
    for (const [k, v] of Object.entries(parsed)) if (laterWins || !(k in values)) values[k] = v;
  };
  let files: string[];
  if (explicit && explicit.length > 0) {
    files = explicit;
    for (const f of files) read(f, true);
  } else {
    const dirs = [...new Set(Array.isArray(projectDir) ? projectDir : [projectDir])];
    files = dirs.map((d) => join(d, '.env')).filter((f) => existsSync(f));
    for (const f of files) read(f, false);
  }
  const lookup: Lookup = (name) => fromShell(name) ?? (name in values ? { value: values[name], source } : undefined);
  return { lookup, get: (name) => lookup(name)?.value, files };
}
