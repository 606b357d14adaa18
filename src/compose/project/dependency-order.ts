// Services in depends_on order: which services an operation touches (named ones plus their dependencies),
// and running a step over them with each service after its dependencies (or, reversed, after its
// dependents), independent services in parallel up to a bound.
import type { Project, Service } from '../model';
import { ComposeProjectError } from './naming';
import { semaphore } from '../../util/semaphore';

export const DEFAULT_PARALLELISM = 8;

/** Each selected service → the selected services it depends on. */
export type DependencyGraph = Map<string, string[]>;

function lookup(project: Project, name: string): Service | undefined {
  return project.services[name];
}

/**
 * The services an operation covers: those named (all when none) and, unless noDeps, what they depend on.
 * A dependency missing from the project is an error unless `required: false` (then a warning, and skipped).
 */
export function selectServices(project: Project, names: string[], noDeps: boolean, warn: (m: string) => void): string[] {
  for (const n of names) {
    if (!lookup(project, n)) throw new ComposeProjectError(`no such service: ${n}`);
  }
  const start = names.length ? names : Object.keys(project.services);
  const selected = new Set<string>();
  const visit = (name: string) => {
    if (selected.has(name)) return;
    selected.add(name);
    if (noDeps) return;
    for (const [dep, d] of Object.entries(lookup(project, name)?.depends_on ?? {})) {
      if (lookup(project, dep)) visit(dep);
      else if (d.required === false) warn(`service "${name}" depends on undefined service "${dep}" (required: false): skipped`);
      else throw new ComposeProjectError(`service "${name}" depends on undefined service "${dep}": invalid compose project`);
    }
  };
  start.forEach(visit);
  return [...selected].sort();
}

/** The graph over the selected services; a cycle is an error naming it. */
export function dependencyGraph(project: Project, selected: string[]): DependencyGraph {
  const set = new Set(selected);
  const graph: DependencyGraph = new Map();
  for (const name of selected) {
    graph.set(name, Object.keys(lookup(project, name)?.depends_on ?? {}).filter((d) => set.has(d)).sort());
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      throw new ComposeProjectError(`dependency cycle detected: ${cycle.join(' -> ')}`);
    }
    state.set(name, 'visiting');
    for (const d of graph.get(name) ?? []) visit(d, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of selected) visit(name, []);
  return graph;
}

/**
 * Runs `step` for each item, at most `parallelism` at once, starting them in the given order (so a fake daemon
 * sees the calls in that order); every step runs to its end, then the first failure is thrown.
 */
export async function inParallel<T>(items: T[], step: (item: T) => Promise<void>, parallelism?: number): Promise<void> {
  const slot = semaphore(parallelism ?? DEFAULT_PARALLELISM);
  const results = await Promise.allSettled(items.map((item) => slot(() => step(item))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Runs `step` for every service of the graph, each after its dependencies (reverse: after its dependents),
 * at most `parallelism` at once. A failed service's dependents do not run; the first failure is thrown once
 * every started step has ended.
 */
export async function inDependencyOrder(
  graph: DependencyGraph,
  step: (service: string) => Promise<void>,
  options: { parallelism?: number; reverse?: boolean } = {},
): Promise<void> {
  const before = new Map<string, string[]>();
  for (const name of graph.keys()) before.set(name, []);
  for (const [name, deps] of graph) {
    for (const d of deps) {
      if (options.reverse) before.get(d)!.push(name);
      else before.get(name)!.push(d);
    }
  }
  const slot = semaphore(options.parallelism ?? DEFAULT_PARALLELISM);
  const runs = new Map<string, Promise<void>>();
  const run = (name: string): Promise<void> => {
    let p = runs.get(name);
    if (!p) {
      p = Promise.all(before.get(name)!.map(run)).then(() => slot(() => step(name)));
      runs.set(name, p);
    }
    return p;
  };
  const results = await Promise.allSettled([...graph.keys()].sort().map(run));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
