// The rows `node ls`, `service ls` and `service ps`/`node ps`/`stack ps` print: docker/cli's node, service
// and task formatter contexts (field values as docker shows them) and their default tables.
import { ellipsis, humanDuration, shortId } from '../../util/units';
import type { Node, PortConfig, Service, Task } from '../../wire/swarm';
import type { FormatSpec } from '../format/table';

/** formatter.PrettyPrint: "ready" → "Ready", "rollback_completed" stays one word. */
export function prettyPrint(s: string): string {
  return s.replace(/\b[a-z]/g, (c) => c.toUpperCase());
}

/**
 * PrettyPrint of an API time (decoded by Go in UTC): time.Time's String, "2026-12-06 20:37:13.772 +0000 UTC",
 * then lower-cased after the first letter as PrettyPrint does ("+0000 utc").
 */
export function prettyTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return prettyPrint(iso);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 utc`;
}

/** The image as the tables show it: a digest dropped when there is a tag (reference.FamiliarString of name:tag). */
export function displayImage(image: string): string {
  const at = image.indexOf('@');
  if (at < 0) return image.replace(/^docker\.io\/(library\/)?/, '');
  const name = image.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const hasTag = name.indexOf(':', lastSlash + 1) >= 0;
  return hasTag ? name.replace(/^docker\.io\/(library\/)?/, '') : image;
}

export const NODE_TABLE: Omit<FormatSpec, 'format'> = {
  defaultFormat: 'table {{.ID}} {{if .Self}}*{{else}} {{ end }}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}',
  headers: { ID: 'ID', Self: '', Hostname: 'HOSTNAME', Status: 'STATUS', Availability: 'AVAILABILITY', ManagerStatus: 'MANAGER STATUS', EngineVersion: 'ENGINE VERSION', TLSStatus: 'TLS STATUS' },
};

export function nodeRow(n: Node, selfId: string): Record<string, unknown> {
  const reach = n.ManagerStatus ? (n.ManagerStatus.Leader ? 'Leader' : n.ManagerStatus.Reachability) : '';
  return {
    ID: n.ID, Self: n.ID === selfId, Hostname: n.Description.Hostname,
    Status: prettyPrint(n.Status.State), Availability: prettyPrint(n.Spec.Availability),
    ManagerStatus: prettyPrint(reach), EngineVersion: n.Description.Engine.EngineVersion,
    TLSStatus: 'Ready',
  };
}

/** Natural order by hostname (sortorder.NaturalLess). */
export function sortNodes(nodes: Node[]): Node[] {
  const collator = new Intl.Collator('en', { numeric: true });
  return [...nodes].sort((a, b) => collator.compare(a.Description.Hostname, b.Description.Hostname));
}

export const SERVICE_TABLE: Omit<FormatSpec, 'format'> = {
  defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}',
  headers: { ID: 'ID', Name: 'NAME', Mode: 'MODE', Replicas: 'REPLICAS', Image: 'IMAGE', Ports: 'PORTS' },
};

export function serviceMode(s: Service): string {
  const m = s.Spec.Mode ?? {};
  if (m.Global) return 'global';
  if (m.Replicated) return 'replicated';
  if (m.ReplicatedJob) return 'replicated job';
  if (m.GlobalJob) return 'global job';
  return '';
}

export function serviceReplicas(s: Service): string {
  const { RunningTasks: running = 0, DesiredTasks: desired = 0, CompletedTasks: completed = 0 } = s.ServiceStatus ?? {};
  const mode = s.Spec.Mode ?? {};
  if (mode.ReplicatedJob) return `${running}/${desired} (${completed}/${mode.ReplicatedJob.TotalCompletions ?? 0} completed)`;
  if (mode.GlobalJob) return `${running}/${desired} (${completed}/${desired + completed} completed)`;
  const max = mode.Replicated ? s.Spec.TaskTemplate.Placement?.MaxReplicas ?? 0 : 0;
  return max > 0 ? `${running}/${desired} (max ${max} per node)` : `${running}/${desired}`;
}

/** The PORTS column: ingress ports, consecutive ones grouped into ranges (`*:8080-8081->80-81/tcp`). */
export function servicePorts(ports: PortConfig[] | undefined): string {
  if (!ports) return '';
  const sorted = [...ports].sort((a, b) => ((a.Protocol ?? '') === (b.Protocol ?? '')
    ? (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) : (a.Protocol ?? '') < (b.Protocol ?? '') ? -1 : 1));
  const out: string[] = [];
  let pr = { pStart: 0, pEnd: 0, tStart: 0, tEnd: 0, protocol: '' };
  const show = () => {
    const pub = pr.pEnd > pr.pStart ? `${pr.pStart}-${pr.pEnd}` : `${pr.pStart}`;
    const tgt = pr.tEnd > pr.tStart ? `${pr.tStart}-${pr.tEnd}` : `${pr.tStart}`;
    return `*:${pub}->${tgt}/${pr.protocol}`;
  };
  for (const p of sorted) {
    if (p.PublishMode !== 'ingress') continue;
    const pub = p.PublishedPort ?? 0;
    const tgt = p.TargetPort ?? 0;
    const isRange = pr.tEnd !== pr.tStart;
    if (p.Protocol !== pr.protocol || pub - pr.pEnd > 1 || tgt - pr.tEnd > 1 || (isRange && tgt <= pr.tEnd)) {
      if (pr.pStart > 0) out.push(show());
      pr = { pStart: pub, pEnd: pub, tStart: tgt, tEnd: tgt, protocol: p.Protocol ?? 'tcp' };
      continue;
    }
    pr.pEnd = pub;
    pr.tEnd = tgt;
  }
  if (pr.pStart > 0) out.push(show());
  return out.join(', ');
}

export function serviceRow(s: Service): Record<string, unknown> {
  return {
    ID: shortId(s.ID), Name: s.Spec.Name ?? '', Mode: serviceMode(s), Replicas: serviceReplicas(s),
    Image: displayImage(s.Spec.TaskTemplate.ContainerSpec?.Image ?? ''), Ports: servicePorts(s.Endpoint?.Ports),
  };
}

export const TASK_TABLE: Omit<FormatSpec, 'format'> = {
  defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}',
  headers: { ID: 'ID', Name: 'NAME', Image: 'IMAGE', Node: 'NODE', DesiredState: 'DESIRED STATE', CurrentState: 'CURRENT STATE', Error: 'ERROR', Ports: 'PORTS' },
};

/** What task rows need besides the tasks: service and node names by ID. */
export interface TaskNames {
  service(id: string): string;
  node(id: string): string;
}

/**
 * Task rows as task.Print makes them: named `<service>.<slot>` (or `.<node id>` for global tasks), sorted by
 * name then newest first, and in a table the older tasks of a slot indented with ` \_ `.
 */
export function taskRows(tasks: Task[], names: TaskNames, opts: { trunc: boolean; table: boolean; now?: number }): Record<string, unknown>[] {
  const now = opts.now ?? Date.now();
  const named = tasks.map((t) => ({ t, name: `${names.service(t.ServiceID)}.${t.Slot ? t.Slot : t.NodeID ?? ''}` }));
  const collator = new Intl.Collator('en', { numeric: true });
  named.sort((a, b) => (a.name !== b.name ? collator.compare(a.name, b.name) : Date.parse(b.t.CreatedAt) - Date.parse(a.t.CreatedAt)));
  let prev = '';
  return named.map(({ t, name }) => {
    const shown = opts.table && name === prev ? ` \\_ ${name}` : name;
    prev = name;
    const err = t.Status.Err ?? '';
    const cut = opts.trunc ? ellipsis(err, 30) : err;
    return {
      ID: opts.trunc ? shortId(t.ID) : t.ID,
      Name: shown,
      Image: opts.trunc ? displayImage(t.Spec.ContainerSpec?.Image ?? '') : t.Spec.ContainerSpec?.Image ?? '',
      Node: t.NodeID ? names.node(t.NodeID) : '',
      DesiredState: prettyPrint(t.DesiredState),
      CurrentState: `${prettyPrint(t.Status.State)} ${humanDuration(Math.max(0, now - Date.parse(t.Status.Timestamp))).toLowerCase()} ago`,
      Error: cut ? `"${cut}"` : '',
      Ports: (t.Status.PortStatus?.Ports ?? []).map((p) => `*:${p.PublishedPort}->${p.TargetPort}/${p.Protocol}`).join(','),
    };
  });
}
