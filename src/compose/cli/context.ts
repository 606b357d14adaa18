// Where the daemon is, found as the docker CLI finds it: -H/--host, then --context/-c, then DOCKER_HOST,
// then DOCKER_CONTEXT, then the config's currentContext; a named context's endpoint is in its meta.json.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The docker CLI's default when no context names another daemon. */
export const DOCKER_DEFAULT_HOST = 'unix:///var/run/docker.sock';

/** A context named on the command line or in the config that the CLI's store does not hold. */
export class ContextNotFoundError extends Error {
  constructor(readonly context: string) {
    super(`context "${context}": context not found: open ${context}: no such file or directory`);
    this.name = 'ContextNotFoundError';
  }
}

export interface DaemonFlags {
  host?: string;
  context?: string;
  /** --config DIR given before `compose`. */
  config?: string;
}

/** The docker CLI's config directory: --config, $DOCKER_CONFIG, ~/.docker. */
export function dockerConfigDir(flags: DaemonFlags, env: NodeJS.ProcessEnv): string {
  return flags.config || env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
}

/** The daemon address the docker CLI would use with these flags and this environment. */
export function resolveDaemonHost(flags: DaemonFlags, env: NodeJS.ProcessEnv): string {
  if (flags.host) return flags.host;
  const configDir = dockerConfigDir(flags, env);
  if (flags.context) return contextHost(flags.context, configDir, env);
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  if (env.DOCKER_CONTEXT) return contextHost(env.DOCKER_CONTEXT, configDir, env);
  const current = currentContext(configDir);
  return current ? contextHost(current, configDir, env) : DOCKER_DEFAULT_HOST;
}

/** config.json's currentContext, or undefined (no file, unreadable JSON: the CLI then uses "default"). */
function currentContext(configDir: string): string | undefined {
  try {
    const config = JSON.parse(fs.readFileSync(path.join(configDir, 'config.json'), 'utf8')) as { currentContext?: unknown };
    return typeof config.currentContext === 'string' && config.currentContext ? config.currentContext : undefined;
  } catch {
    return undefined;
  }
}

/** A context's docker endpoint: "default" is DOCKER_HOST or the default socket; others are in the store. */
function contextHost(name: string, configDir: string, env: NodeJS.ProcessEnv): string {
  if (name === 'default') return env.DOCKER_HOST || DOCKER_DEFAULT_HOST;
  // The store keys a context's directory by the SHA-256 of its name (names may hold characters paths cannot).
  const dir = createHash('sha256').update(name).digest('hex');
  let meta: { Endpoints?: { docker?: { Host?: unknown } } };
  try {
    meta = JSON.parse(fs.readFileSync(path.join(configDir, 'contexts', 'meta', dir, 'meta.json'), 'utf8')) as typeof meta;
  } catch {
    throw new ContextNotFoundError(name);
  }
  const host = meta.Endpoints?.docker?.Host;
  if (typeof host !== 'string' || !host) throw new Error(`context "${name}" has no docker endpoint`);
  return host;
}
