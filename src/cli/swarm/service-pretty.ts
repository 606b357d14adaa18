// `service inspect --pretty`: docker's serviceInspectPrettyTemplate, line for line (its tabs, trailing spaces
// and optional sections), with network IDs shown by name.
import { formatGoDuration } from '../../wire/durations';
import { bytesSize, humanDuration } from '../../util/units';
import type { Service, UpdateConfig } from '../../wire/swarm';

const sortedEntries = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const ago = (iso: string, now: number) => `${humanDuration(Math.max(0, now - Date.parse(iso)))} ago`;

function updateConfigLines(title: 'UpdateConfig' | 'RollbackConfig', u: UpdateConfig): string[] {
  const lines = [`${title}:`, ` Parallelism:\t${u.Parallelism ?? 0}`];
  if (u.Delay) lines.push(` Delay:\t\t${formatGoDuration(u.Delay)}`);
  lines.push(` On failure:\t${u.FailureAction ?? ''}`);
  if (u.Monitor) lines.push(` Monitoring Period: ${formatGoDuration(u.Monitor)}`);
  lines.push(` Max failure ratio: ${u.MaxFailureRatio ?? 0}`,
    title === 'UpdateConfig' ? ` Update order:      ${u.Order ?? ''}` : ` Rollback order:    ${u.Order ?? ''}`);
  return lines;
}

/** One service as docker prints it; `networkName` maps a network ID to its name (the ID when unknown). */
export function prettyService(s: Service, networkName: (id: string) => string = (id) => id, now = Date.now()): string {
  const spec = s.Spec;
  const task = spec.TaskTemplate;
  const c = task.ContainerSpec ?? { Image: '' };
  const lines = ['', `ID:\t\t${s.ID}`, `Name:\t\t${spec.Name ?? ''}`];
  if (Object.keys(spec.Labels ?? {}).length) lines.push('Labels:', ...sortedEntries(spec.Labels).map(([k, v]) => ` ${k}${v ? `=${v}` : ''}`));
  if (spec.Mode?.Global) lines.push('Service Mode:\tGlobal');
  else if (spec.Mode?.Replicated) {
    lines.push('Service Mode:\tReplicated');
    if (spec.Mode.Replicated.Replicas !== undefined) lines.push(` Replicas:\t${spec.Mode.Replicated.Replicas}`);
  } else lines.push('Service Mode:');
  const st = s.UpdateStatus;
  if (st?.State) {
    lines.push('UpdateStatus:', ` State:\t\t${st.State}`);
    if (st.StartedAt) lines.push(` Started:\t${ago(st.StartedAt, now)}`);
    if (st.State === 'completed' && st.CompletedAt) lines.push(` Completed:\t${ago(st.CompletedAt, now)}`);
    lines.push(` Message:\t${st.Message ?? ''}`);
  }
  lines.push('Placement:');
  const placement = task.Placement;
  if (placement?.Constraints?.length) lines.push(` Constraints:\t[${placement.Constraints.join(' ')}]`);
  const prefs = (placement?.Preferences ?? []).filter((p) => p.Spread).map((p) => `spread=${p.Spread!.SpreadDescriptor}`);
  if (prefs.length) lines.push(` Preferences:   [${prefs.join(' ')}]`);
  if (placement?.MaxReplicas) lines.push(` Max Replicas Per Node:   ${placement.MaxReplicas}`);
  if (spec.UpdateConfig) lines.push(...updateConfigLines('UpdateConfig', spec.UpdateConfig));
  if (spec.RollbackConfig) lines.push(...updateConfigLines('RollbackConfig', spec.RollbackConfig));
  lines.push('ContainerSpec:', ` Image:\t\t${c.Image}`);
  if (c.Args?.length) lines.push(` Args:\t\t${c.Args.map((a) => `${a} `).join('')}`);
  if (c.Env?.length) lines.push(` Env:\t\t${c.Env.map((e) => `${e} `).join('')}`);
  if (c.Dir) lines.push(` Dir:\t\t${c.Dir}`);
  if (c.Init !== undefined && c.Init !== null) lines.push(` Init:\t\t${c.Init}`);
  if (c.User) lines.push(` User: ${c.User}`);
  if (c.CapabilityAdd?.length || c.CapabilityDrop?.length) {
    lines.push('Capabilities:');
    if (c.CapabilityAdd?.length) lines.push(` Add: ${c.CapabilityAdd.join(', ')}`);
    if (c.CapabilityDrop?.length) lines.push(` Drop: ${c.CapabilityDrop.join(', ')}`);
  }
  if (Object.keys(c.Sysctls ?? {}).length) lines.push('SysCtls:', ...sortedEntries(c.Sysctls).map(([k, v]) => ` ${k}${v ? `: ${v}` : ''}`));
  if (c.Ulimits?.length) {
    const ulimits = Object.fromEntries(c.Ulimits.map((u) => [u.Name, `${u.Soft}:${u.Hard}`]));
    lines.push('Ulimits:', ...sortedEntries(ulimits).map(([k, v]) => ` ${k}: ${v}`));
  }
  if (c.Mounts?.length) {
    lines.push('Mounts:');
    for (const m of c.Mounts) lines.push(` Target:\t${m.Target}`, `  Source:\t${m.Source ?? ''}`, `  ReadOnly:\t${!!m.ReadOnly}`, `  Type:\t\t${m.Type}`);
  }
  if (c.Configs?.length) lines.push('Configs:', ...c.Configs.flatMap((r) => [` Target:\t${r.File?.Name ?? ''}`, `  Source:\t${r.ConfigName}`]));
  if (c.Secrets?.length) lines.push('Secrets:', ...c.Secrets.flatMap((r) => [` Target:\t${r.File?.Name ?? ''}`, `  Source:\t${r.SecretName}`]));
  if (task.LogDriver) {
    lines.push('Log Driver:');
    if (task.LogDriver.Name) lines.push(` Name:\t\t${task.LogDriver.Name}`);
    if (Object.keys(task.LogDriver.Options ?? {}).length) lines.push(' LogOpts:', ...sortedEntries(task.LogDriver.Options).map(([k, v]) => `  ${k}${v ? `:       ${v}` : ''}`));
    // The template's block ends with a newline of its own.
    lines.push('');
  }
  const res = task.Resources;
  if (res) {
    lines.push('Resources:');
    const r = res.Reservations;
    if (r && ((r.NanoCPUs ?? 0) > 0 || (r.MemoryBytes ?? 0) > 0)) {
      lines.push(' Reservations:');
      if ((r.NanoCPUs ?? 0) > 0) lines.push(`  CPU:\t\t${r.NanoCPUs! / 1e9}`);
      if (r.MemoryBytes) lines.push(`  Memory:\t${bytesSize(r.MemoryBytes)}`);
    }
    const l = res.Limits;
    if (l && ((l.NanoCPUs ?? 0) > 0 || (l.MemoryBytes ?? 0) > 0 || (l.Pids ?? 0) > 0)) {
      lines.push(' Limits:');
      if ((l.NanoCPUs ?? 0) > 0) lines.push(`  CPU:\t\t${l.NanoCPUs! / 1e9}`);
      if (l.MemoryBytes) lines.push(`  Memory:\t${bytesSize(l.MemoryBytes)}`);
    }
  }
  if ((res?.Limits?.Pids ?? 0) > 0) lines.push(`  PIDs:\t\t${res!.Limits!.Pids}`);
  if (task.Networks?.length) lines.push(`Networks:${task.Networks.map((n) => ` ${networkName(n.Target)}`).join('')} `);
  lines.push(`Endpoint Mode:\t${spec.EndpointSpec?.Mode ?? ''}`);
  const ports = s.Endpoint?.Ports ?? [];
  if (ports.length) {
    lines.push('Ports:');
    for (const p of ports) lines.push(` PublishedPort = ${p.PublishedPort ?? 0}`, `  Protocol = ${p.Protocol ?? ''}`, `  TargetPort = ${p.TargetPort ?? 0}`, `  PublishMode = ${p.PublishMode ?? ''}`);
    lines[lines.length - 1] += ' ';
  }
  const h = c.Healthcheck;
  if (h) {
    lines.push(' Healthcheck:', `  Interval = ${formatGoDuration(h.Interval ?? 0)}`, `  Retries = ${h.Retries ?? 0}`,
      `  StartPeriod =\t${formatGoDuration(h.StartPeriod ?? 0)}`, `  Timeout =\t${formatGoDuration(h.Timeout ?? 0)}`);
    if (h.Test?.length) {
      lines.push('  Tests:', ...h.Test.map((t) => `\t Test = ${t}`));
      lines[lines.length - 1] += ' ';
    }
  }
  // The template ends with a newline, and docker's writer adds one after each service.
  return `${lines.join('\n')}\n\n`;
}
