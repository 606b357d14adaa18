// The swarm: nodes with state and role, services with replicas running/desired, and which tasks run on which node,
// refetched on cluster and container events (a task's state changes as its container does) and every few seconds
// while the view is open (a worker's task changes reach this manager without an event here).
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { EventMessage } from '../../../wire/docker';
import type { Node, Service, Task } from '../../../wire/swarm';
import { Throttle } from '../model/events';
import { nodeLabel, replicaCounts, tasksByNode } from '../model/cluster';
import { getJson } from './api';
import { useEvents } from './live';

interface Cluster { nodes: Node[]; services: Service[]; tasks: Task[] }

const REFRESH_MS = 5000;

export function ClusterView() {
  const [data, setData] = useState<Cluster | undefined>();
  const [error, setError] = useState('');
  const [throttle] = useState(() => new Throttle(() => {
    Promise.all([getJson<Node[]>('/nodes'), getJson<Service[]>('/services?status=true'), getJson<Task[]>('/tasks')])
      .then(([nodes, services, tasks]) => { setData({ nodes, services, tasks }); setError(''); }, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, 1000));
  useEffect(() => {
    throttle.request();
    const timer = setInterval(() => throttle.request(), REFRESH_MS);
    return () => { clearInterval(timer); throttle.cancel(); };
  }, [throttle]);
  useEvents(useCallback((ev: EventMessage) => { if (ev.Type === 'node' || ev.Type === 'service' || ev.Type === 'container') throttle.request(); }, [throttle]));
  if (!data) return html`<section class="view">${error ? html`<p class="error">${error}</p>` : html`<p class="muted">Loading…</p>`}</section>`;
  const serviceName = new Map(data.services.map((s) => [s.ID, s.Spec.Name]));
  const placement = tasksByNode(data.tasks);
  return html`<section class="view cluster">
    ${error && html`<p class="error">${error}</p>`}
    <h3>Nodes</h3>
    <table class="list"><thead><tr><th>Node</th><th>Role</th><th>State</th><th>Availability</th><th>Address</th><th>Tasks</th></tr></thead><tbody>
      ${data.nodes.map((n) => html`<tr data-testid="node-row" data-id=${n.ID} data-state=${n.Status.State}>
        <td>${nodeLabel(n)}${n.ManagerStatus?.Leader ? ' (leader)' : ''}</td><td>${n.Spec.Role}</td><td>${n.Status.State}</td><td>${n.Spec.Availability}</td><td class="mono">${n.Status.Addr}</td>
        <td>${(placement.get(n.ID) ?? []).map((t) => html`<span class=${`task ${t.Status.State}`} data-testid="task-row" data-service=${serviceName.get(t.ServiceID) ?? ''} data-state=${t.Status.State}>${serviceName.get(t.ServiceID) ?? t.ServiceID.slice(0, 12)}.${t.Slot ?? ''}</span>`)}</td></tr>`)}
    </tbody></table>
    <h3>Services</h3>
    <table class="list"><thead><tr><th>Service</th><th>Image</th><th>Replicas</th></tr></thead><tbody>
      ${data.services.map((s) => { const { running, desired } = replicaCounts(s, data.tasks); return html`<tr data-testid="service-row" data-name=${s.Spec.Name} data-running=${running} data-desired=${desired}>
        <td>${s.Spec.Name}</td><td class="mono">${s.Spec.TaskTemplate?.ContainerSpec?.Image ?? ''}</td><td class=${running < desired ? 'warn' : ''}>${running}/${desired}</td></tr>`; })}
    </tbody></table>
  </section>`;
}
