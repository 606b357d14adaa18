// A service's config hash (Compose v2's ServiceHash: what, when it changes, means the container must be
// recreated) and the per-field hashes Berth stores beside it so a recreation can say which field changed.
//
// Stored on each container: com.docker.compose.config-hash (sha256 of the sorted-key JSON of the hashed
// service) and io.berth.compose.config-fields, a JSON object {field: first 12 hex of that field's hash}. The
// fields label is small whatever the service holds, and comparing it with the desired service's names the
// top-level keys that differ (`environment`, `ports`, ...). A container made by another tool has no such label:
// its reason is then only "config hash changed".
import { createHash } from 'node:crypto';
import type { Service } from '../model';

export const CONFIG_FIELDS_LABEL = 'io.berth.compose.config-fields';

/** JSON with object keys sorted at every level, so equal configs give equal bytes. */
export function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => stableJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * What the hash covers: the service as the model holds it, less what can change without a new container (as
 * Compose's ServiceHash: build, pull_policy, scale, deploy.replicas, depends_on, profiles).
 */
export function hashedConfig(service: Service): Record<string, unknown> {
  const { build: _b, pull_policy: _p, scale: _s, depends_on: _d, profiles: _pr, ...rest } = service;
  const out: Record<string, unknown> = { ...rest };
  if (service.deploy) {
    const { replicas: _r, ...deploy } = service.deploy;
    if (Object.keys(deploy).length) out.deploy = deploy; else delete out.deploy;
  }
  return out;
}

export function serviceHash(service: Service): string {
  return sha256(stableJson(hashedConfig(service)));
}

/** {field: short hash} of each hashed top-level field, the content of CONFIG_FIELDS_LABEL. */
export function fieldHashes(service: Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(hashedConfig(service))) if (v !== undefined) out[k] = sha256(stableJson(v)).slice(0, 12);
  return out;
}

export function fieldHashesLabel(service: Service): Record<string, string> {
  return { [CONFIG_FIELDS_LABEL]: stableJson(fieldHashes(service)) };
}

/** The top-level fields whose hashes differ between a container's stored label and the desired service (sorted). */
export function changedFields(storedLabel: string | undefined, service: Service): string[] {
  if (!storedLabel) return [];
  let stored: Record<string, string>;
  try { stored = JSON.parse(storedLabel) as Record<string, string>; } catch { return []; }
  const now = fieldHashes(service);
  const keys = new Set([...Object.keys(stored), ...Object.keys(now)]);
  return [...keys].filter((k) => stored[k] !== now[k]).sort();
}
