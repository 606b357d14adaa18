// Waiting for a service to converge after create/update/scale/rollback, as docker/cli's service/progress
// does it (poll the service, its up-to-date tasks and the nodes), printed as plain progress lines:
// "overall progress: 2 out of 3 tasks", "1/3: running", "verify: Service <id> converged".
import type { Cli } from '../command';
import { encodeFilters } from '../api-client';
import type { Node, Service, Task } from '../../wire/swarm';

const TERMINAL = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);
const DEFAULT_MONITOR_NS = 5_000_000_000;

/** How far a service is: tasks running per slot (or node), against how many it wants. */
export interface Convergence { running: number; desired: number; states: Map<string, string>; jobDone?: boolean }

/** Counts as the progress updaters do: a slot (or node, for global) is done when its task runs on a node that is up. */
export function measure(service: Service, tasks: Task[], nodes: Node[]): Convergence {
  const up = new Set(nodes.filter((n) => n.Status.State !== 'down').map((n) => n.ID));
  const live = tasks.filter((t) => !TERMINAL.has(t.DesiredState) || t.DesiredState === 'complete')
    .filter((t) => t.Status.State !== 'remove' && t.Status.State !== 'orphaned' && (!t.NodeID || up.has(t.NodeID)));
  const mode = service.Spec.Mode ?? {};
  const states = new Map<string, string>();
  if (mode.ReplicatedJob || mode.GlobalJob) {
    const done = tasks.filter((t) => t.Status.State === 'complete').length;
    const total = mode.ReplicatedJob ? mode.ReplicatedJob.TotalCompletions ?? 1 : up.size;
    return { running: done, desired: total, states, jobDone: done >= total };
  }
  if (mode.Global) {
    const want = nodes.filter((n) => n.Status.State !== 'down' && n.Spec.Availability === 'active').map((n) => n.ID);
    for (const t of live) if (t.NodeID && t.DesiredState === 'running') states.set(t.NodeID.slice(0, 12), t.Status.State);
    const running = want.filter((id) => live.some((t) => t.NodeID === id && t.DesiredState === 'running' && t.Status.State === 'running')).length;
    return { running, desired: want.length, states };
  }
  const replicas = mode.Replicated?.Replicas ?? 1;
  let running = 0;
  for (let slot = 1; slot <= replicas; slot++) {
    const inSlot = live.filter((t) => t.Slot === slot && t.DesiredState === 'running');
    const best = inSlot.find((t) => t.Status.State === 'running') ?? inSlot[0];
    if (best) states.set(`${slot}/${replicas}`, best.Status.State);
    if (best?.Status.State === 'running') running++;
  }
  return { running, desired: replicas, states };
}

export class ConvergeError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until converged (then verifies it holds for the update monitor), printing each change on `out`. */
export async function waitForConvergence(cli: Cli, serviceId: string, out: NodeJS.WritableStream, opts: { pollMs?: number; rollback?: boolean } = {}): Promise<void> {
  const poll = opts.pollMs ?? 200;
  const seen = new Map<string, string>();
  const line = (id: string, text: string) => {
    if (seen.get(id) === text) return;
    seen.set(id, text);
    out.write(`${id}: ${text}\n`);
  };
  let convergedAt: number | undefined;
  for (;;) {
    const service = await cli.api.json<Service>('GET', `/services/${encodeURIComponent(serviceId)}`, { query: { insertDefaults: 'false' } });
    const state = service.UpdateStatus?.State;
    if (state === 'paused') throw new ConvergeError(`service update paused: ${service.UpdateStatus?.Message ?? ''}`);
    if (state === 'rollback_paused') throw new ConvergeError(`service rollback paused: ${service.UpdateStatus?.Message ?? ''}`);
    if (state === 'rollback_started' && service.UpdateStatus?.Message) line('rollback', service.UpdateStatus.Message);
    const rollingBack = opts.rollback || state === 'rollback_started';
    const tasks = await cli.api.json<Task[]>('GET', '/tasks', { query: { filters: encodeFilters({ service: [service.ID], '_up-to-date': ['true'] }) } });
    const nodes = await cli.api.json<Node[]>('GET', '/nodes');
    const c = measure(service, tasks, nodes);
    line('overall progress', rollingBack ? `rolling back update: ${c.running} out of ${c.desired} tasks` : `${c.running} out of ${c.desired} tasks`);
    for (const [id, s] of c.states) line(id, s);
    if (c.jobDone) { line('job progress', 'job complete'); return; }
    const updating = state === 'updating' || state === 'rollback_started';
    if (c.running === c.desired && !updating) {
      const monitor = service.Spec.UpdateConfig?.Monitor ?? DEFAULT_MONITOR_NS;
      convergedAt ??= Date.now();
      const left = monitor / 1e6 - (Date.now() - convergedAt);
      if (left <= 0) { line('verify', `Service ${serviceId} converged`); return; }
      // docker: (monitor - elapsed)/1s + 1, elapsed never 0 there: the seconds left rounded up.
      line('verify', `Waiting ${Math.ceil(left / 1000)} seconds to verify that tasks are stable...`);
    } else {
      if (convergedAt !== undefined) line('verify', 'Detected task failure');
      convergedAt = undefined;
    }
    await sleep(poll);
  }
}
