// The client's config file, ~/.berth/config.json, in docker's ~/.docker/config.json format:
// registry credentials under "auths" as base64 "user:password".
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface AuthEntry { auth?: string; identitytoken?: string }
export interface ConfigFile { auths?: Record<string, AuthEntry>; [key: string]: unknown }

export const INDEX_SERVER = 'https://index.docker.io/v1/';

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.BERTH_CONFIG || path.join(env.HOME || os.homedir(), '.berth');
  return path.join(dir, 'config.json');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigFile {
  try {
    return JSON.parse(fs.readFileSync(configPath(env), 'utf8')) as ConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/** Written through a temporary file and a rename so a crash never leaves half a config. */
export function saveConfig(config: ConfigFile, env: NodeJS.ProcessEnv = process.env): void {
  const file = configPath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Docker keys Docker Hub's credentials by its legacy index URL. */
export function authKey(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? INDEX_SERVER : registry;
}

/** The X-Registry-Auth header value: base64url JSON of the stored credentials, "e30=" ({}) without. */
export function registryAuthHeader(registry: string, env: NodeJS.ProcessEnv = process.env): string {
  const entry = loadConfig(env).auths?.[authKey(registry)];
  const body: Record<string, string> = {};
  if (entry?.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    body.username = decoded.slice(0, i);
    body.password = decoded.slice(i + 1);
    body.serveraddress = registry;
  } else if (entry?.identitytoken) {
    body.identitytoken = entry.identitytoken;
    body.serveraddress = registry;
  }
  return Buffer.from(JSON.stringify(body)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
