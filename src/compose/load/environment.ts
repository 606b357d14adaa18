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
 * `explicit` are --env-file paths (absolute); without them `<projectDir>/.env` is read when it exists.
 */
export function projectEnvironment(shell: NodeJS.ProcessEnv, projectDir: string, explicit?: string[]): ProjectEnvironment {
  const fromShell: Lookup = (name) => {
    const v = shell[name];
    return v === undefined ? undefined : { value: v, source: 'shell' };
  };
  const source: VariableSource = explicit && explicit.length > 0 ? '--env-file' : '.env';
  const files = explicit && explicit.length > 0 ? explicit : existsSync(join(projectDir, '.env')) ? [join(projectDir, '.env')] : [];
  const values: Record<string, string> = {};
  for (const file of files) {
    // A later file sees what earlier ones defined; the shell is the fallback for names no file defines.
    Object.assign(values, readEnvFile(file, (name) => (name in values ? { value: values[name], source } : fromShell(name))));
  }
  const lookup: Lookup = (name) => fromShell(name) ?? (name in values ? { value: values[name], source } : undefined);
  return { lookup, get: (name) => lookup(name)?.value, files };
}
