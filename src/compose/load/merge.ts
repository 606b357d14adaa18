// Merges long-form documents as compose-go's override package does: mappings merged key by key, sequences
// appended, command/entrypoint/healthcheck.test replaced, ports/volumes/secrets/configs merged by their key,
// env/labels/networks/depends_on by name, `!reset` removes what came before and `!override` replaces it.
import { RESET, Override, unmark } from './yaml';
import { isDict } from './canonical';

type Dict = Record<string, unknown>;

/** Service keys whose value replaces the earlier one whole. */
const REPLACED = new Set(['command', 'entrypoint', 'ulimits.*', 'healthcheck.test', 'build.dockerfile_inline']);
/** Sequences appended without duplicates. */
const UNIQUE_LISTS = new Set(['dns', 'dns_opt', 'dns_search', 'tmpfs', 'expose', 'cap_add', 'cap_drop', 'profiles', 'links', 'extra_hosts', 'build.extra_hosts', 'build.tags', 'networks.*.aliases', 'devices', 'external_links', 'security_opt', 'group_add', 'label_file']);

type KeyOf = (item: unknown) => string;
const portKey: KeyOf = (p) => (isDict(p) ? `${p.host_ip ?? ''}:${p.published ?? ''}:${p.target}/${p.protocol ?? 'tcp'}` : String(p));
const volumeKey: KeyOf = (v) => (isDict(v) ? String(v.target) : String(v));
const mountKey = (dir: string): KeyOf => (m) => (isDict(m) ? String(m.target ?? `${dir}${m.source}`) : String(m));
const envFileKey: KeyOf = (e) => (isDict(e) ? String(e.path) : String(e));
/** Sequences of records merged by a key: a later record with the same key replaces the earlier one in place. */
const KEYED_LISTS: Record<string, KeyOf> = {
  ports: portKey,
  volumes: volumeKey,
  secrets: mountKey('/run/secrets/'),
  configs: mountKey('/'),
  env_file: envFileKey,
};

export function dedupe(items: unknown[], key: KeyOf): unknown[] {
  const index = new Map<string, number>();
  const out: unknown[] = [];
  for (const item of items) {
    const k = key(item);
    const at = index.get(k);
    if (at === undefined) {
      index.set(k, out.length);
      out.push(item);
    } else out[at] = item;
  }
  return out;
}

/** Merges `over` into `base` at a service-relative path (`ports`, `healthcheck.test`, `networks.*.aliases`). */
function mergeAt(path: string, base: unknown, over: unknown): unknown {
  if (over === RESET) return undefined;
  if (over instanceof Override) return unmark(over.value);
  if (base === undefined || base === null) return unmark(over);
  if (over === null || over === undefined) return over === null && !isDict(base) ? null : base;
  if (REPLACED.has(path) || REPLACED.has(path.replace(/^([^.]+)\.[^.]+$/, '$1.*'))) return unmark(over);
  const generic = path.replace(/^networks\.[^.]+\./, 'networks.*.');
  if (Array.isArray(base) && Array.isArray(over)) {
    const all = [...base, ...(unmark(over) as unknown[])];
    const key = KEYED_LISTS[path];
    if (key) return dedupe(all, key);
    if (UNIQUE_LISTS.has(generic)) return dedupe(all, (x) => JSON.stringify(x));
    return all;
  }
  if (isDict(base) && isDict(over)) {
    if (path === 'logging' && base.driver !== undefined && over.driver !== undefined && base.driver !== over.driver) return unmark(over);
    const out: Dict = { ...base };
    for (const [k, x] of Object.entries(over)) {
      const merged = mergeAt(path === '' ? k : `${path}.${k}`, out[k], x);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return unmark(over);
}

/** One service over another (a later file's, or the extending service over its base). */
export function mergeService(base: Dict, over: Dict): Dict {
  return mergeAt('', base, over) as Dict;
}

/** A whole document over the documents merged so far. */
export function mergeDocuments(base: Dict, over: Dict): Dict {
  const out: Dict = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === RESET) {
      delete out[key];
      continue;
    }
    if (value instanceof Override) {
      out[key] = unmark(value.value);
      continue;
    }
    const section = ['services', 'networks', 'volumes', 'secrets', 'configs'].includes(key);
    if (section && isDict(value) && isDict(out[key])) {
      const merged: Dict = { ...(out[key] as Dict) };
      for (const [name, def] of Object.entries(value)) {
        const prev = merged[name];
        if (def === RESET) delete merged[name];
        else if (def instanceof Override || !isDict(prev) || !isDict(def)) merged[name] = unmark(def instanceof Override ? def.value : def);
        else merged[name] = key === 'services' ? mergeService(prev, def) : (mergeAt(`${key}.*`, prev, def) as Dict);
      }
      out[key] = merged;
    } else if (out[key] === undefined) out[key] = unmark(value);
    else out[key] = mergeAt(`top.${key}`, out[key], value);
  }
  return out;
}
