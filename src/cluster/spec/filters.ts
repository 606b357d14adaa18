// The `filters` of the swarm listings: the keys each kind accepts (the routes refuse others with 400) and the
// matching swarmkit and dockerd do (id and name by prefix, labels by key or key=value, values checked with dockerd's
// plain 500 words: "Invalid role filter: 'x'"). Resolving a task filter's service or node name is the backend's.
import type { Filters } from '../../wire/filters';
import type { Node, Secret, Service, Task } from '../../wire/swarm';
import { PlainServerError } from './errors';
import { modeOf } from './service-spec';

export const NODE_FILTERS = ['id', 'label', 'node.label', 'membership', 'name', 'role'] as const;
export const SERVICE_FILTERS = ['id', 'label', 'mode', 'name', 'runtime'] as const;
export const TASK_FILTERS = ['id', 'name', 'label', 'service', 'node', 'desired-state', '_up-to-date', 'runtime'] as const;
export const SECRET_FILTERS = ['id', 'label', 'name', 'names'] as const;
export const CONFIG_FILTERS = ['id', 'label', 'name'] as const;

/** The task states a desired-state filter may name (swarmkit's TaskState, lower case). */
const TASK_STATE_NAMES = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete',
  'shutdown', 'failed', 'rejected', 'remove', 'orphaned'];

type Match<T> = (item: T) => boolean;

/** Every `label` filter holds: `k` needs the key, `k=v` the value. */
export function labelsMatch(labels: Record<string, string> | undefined, wanted: readonly string[] | undefined): boolean {
  if (!wanted?.length) return true;
  const have = labels ?? {};
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return Object.hasOwn(have, w);
    return have[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** No values for `key`, or one of them is a prefix of `value`. */
function anyPrefix(filters: Filters, key: string, value: string | undefined): boolean {
  const vs = filters.get(key);
  return !vs?.length || vs.some((v) => (value ?? '').startsWith(v));
}

function anyExact(filters: Filters, key: string, value: string | undefined): boolean {
  const vs = filters.get(key);
  return !vs?.length || vs.includes(value ?? '');
}

function checkValues(filters: Filters, key: string, valid: readonly string[]): void {
  for (const v of filters.get(key) ?? []) {
    if (!valid.includes(v.toLowerCase())) throw new PlainServerError(`Invalid ${key} filter: '${v}'`);
  }
}

export function nodeMatcher(filters: Filters): Match<Node> {
  checkValues(filters, 'role', ['manager', 'worker']);
  checkValues(filters, 'membership', ['accepted', 'pending']);
  return (n) => anyPrefix(filters, 'id', n.ID)
    && anyPrefix(filters, 'name', n.Description?.Hostname)
    && anyExact(filters, 'role', n.Spec.Role)
    // Every node in the store has been accepted: swarmkit's pending membership belongs to the old manual acceptance.
    && (!filters.get('membership')?.length || filters.get('membership')!.some((m) => m.toLowerCase() === 'accepted'))
    && labelsMatch(n.Description?.Engine?.Labels, filters.get('label'))
    && labelsMatch(n.Spec.Labels, filters.get('node.label'));
}

export function serviceMatcher(filters: Filters): Match<Service> {
  return (s) => anyPrefix(filters, 'id', s.ID)
    && anyPrefix(filters, 'name', s.Spec.Name)
    && anyExact(filters, 'mode', modeOf(s.Spec))
    && anyExact(filters, 'runtime', s.Spec.TaskTemplate.Runtime || 'container')
    && labelsMatch(s.Spec.Labels, filters.get('label'));
}

/** A task's name as filters and lookups see it: `svc.slot.id`, or `svc.nodeID.id` for slotless tasks. */
export function taskName(task: Task, serviceName: string | undefined): string {
  if (task.Name) return task.Name;
  return `${serviceName ?? ''}.${task.Slot ? task.Slot : task.NodeID ?? ''}.${task.ID}`;
}

export interface TaskFilterContext {
  /** The task's service (for its name and labels). */
  serviceOf(task: Task): Service | undefined;
  /** IDs the `service` and `node` filter values resolved to (by ID, name or prefix: the backend's lookup). */
  serviceIds?: ReadonlySet<string>;
  nodeIds?: ReadonlySet<string>;
  /** For `_up-to-date`: is the task made from its service's current spec? */
  upToDate?(task: Task, service: Service | undefined): boolean;
}

export function taskMatcher(filters: Filters, ctx: TaskFilterContext): Match<Task> {
  checkValues(filters, 'desired-state', TASK_STATE_NAMES);
  const upToDate = filters.get('_up-to-date');
  return (t) => {
    const svc = ctx.serviceOf(t);
    return anyPrefix(filters, 'id', t.ID)
      && anyPrefix(filters, 'name', taskName(t, svc?.Spec.Name))
      && labelsMatch(svc?.Spec.Labels, filters.get('label'))
      && (!ctx.serviceIds || ctx.serviceIds.has(t.ServiceID))
      && (!ctx.nodeIds || ctx.nodeIds.has(t.NodeID ?? ''))
      && (!filters.get('desired-state')?.length || filters.get('desired-state')!.some((d) => d.toLowerCase() === t.DesiredState))
      && anyExact(filters, 'runtime', t.Spec.Runtime || 'container')
      && (!upToDate?.length || !ctx.upToDate || ctx.upToDate(t, svc));
  };
}

/** Secrets and configs: id and name prefixes are ORed (names, secrets only, exact), labels ANDed. */
export function secretMatcher(filters: Filters): Match<Secret> {
  const ids = filters.get('id') ?? [];
  const names = filters.get('name') ?? [];
  const exact = filters.get('names') ?? [];
  return (s) => {
    const name = s.Spec.Name ?? '';
    const named = !ids.length && !names.length && !exact.length
      || ids.some((p) => s.ID.startsWith(p)) || names.some((p) => name.startsWith(p)) || exact.includes(name);
    return named && labelsMatch(s.Spec.Labels, filters.get('label'));
  };
}
export const configMatcher = secretMatcher;
