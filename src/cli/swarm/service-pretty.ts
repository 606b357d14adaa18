// `service inspect --pretty`: the main fields of a service in docker's human-readable layout (a subset).
import { formatGoDuration } from '../../wire/durations';
import type { Service } from '../../wire/swarm';
import { serviceMode } from './render';

export function prettyService(s: Service): string {
  const spec = s.Spec;
  const c = spec.TaskTemplate.ContainerSpec;
  const lines = [`\nID:\t\t${s.ID}`, `Name:\t\t${spec.Name ?? ''}`];
  const labels = Object.entries(spec.Labels ?? {});
  if (labels.length) lines.push('Labels:', ...labels.sort().map(([k, v]) => ` ${k}=${v}`));
  const mode = serviceMode(s);
  lines.push(`Service Mode:\t${mode[0]?.toUpperCase() ?? ''}${mode.slice(1)}`);
  if (spec.Mode?.Replicated) lines.push(` Replicas:\t${spec.Mode.Replicated.Replicas ?? 1}`);
  if (s.UpdateStatus?.State) {
    lines.push('UpdateStatus:', ` State:\t\t${s.UpdateStatus.State}`);
    if (s.UpdateStatus.StartedAt) lines.push(` Started:\t${s.UpdateStatus.StartedAt}`);
    if (s.UpdateStatus.CompletedAt) lines.push(` Completed:\t${s.UpdateStatus.CompletedAt}`);
    lines.push(` Message:\t${s.UpdateStatus.Message ?? ''}`);
  }
  const placement = spec.TaskTemplate.Placement;
  if (placement?.Constraints?.length) lines.push('Placement:', ` Constraints:\t[${placement.Constraints.join(' ')}]`);
  else lines.push('Placement:');
  for (const [title, u] of [['UpdateConfig', spec.UpdateConfig], ['RollbackConfig', spec.RollbackConfig]] as const) {
    if (!u) continue;
    lines.push(`${title}:`, ` Parallelism:\t${u.Parallelism}`);
    if (u.Delay) lines.push(` Delay:\t\t${formatGoDuration(u.Delay)}`);
    lines.push(` On failure:\t${u.FailureAction ?? 'pause'}`);
    if (u.Monitor) lines.push(` Monitoring Period: ${formatGoDuration(u.Monitor)}`);
    lines.push(` Max failure ratio: ${u.MaxFailureRatio}`, ` ${title === 'UpdateConfig' ? 'Update' : 'Rollback'} order:      ${u.Order ?? 'stop-first'}`);
  }
  lines.push('ContainerSpec:', ` Image:\t\t${c?.Image ?? ''}`);
  if (c?.Command?.length) lines.push(` Command:\t${c.Command.join(' ')}`);
  if (c?.Args?.length) lines.push(` Args:\t\t${c.Args.join(' ')}`);
  if (c?.Env?.length) lines.push(` Env:\t\t${c.Env.join(' ')}`);
  if (c?.Init !== undefined) lines.push(` Init:\t\t${c.Init}`);
  const res = spec.TaskTemplate.Resources;
  if (res?.Limits?.NanoCPUs || res?.Limits?.MemoryBytes || res?.Reservations?.NanoCPUs || res?.Reservations?.MemoryBytes) {
    lines.push('Resources:');
    for (const [t, r] of [['Reservations', res.Reservations], ['Limits', res.Limits]] as const) {
      if (!r?.NanoCPUs && !r?.MemoryBytes) continue;
      lines.push(` ${t}:`);
      if (r.NanoCPUs) lines.push(`  CPU:\t\t${r.NanoCPUs / 1e9}`);
      if (r.MemoryBytes) lines.push(`  Memory:\t${r.MemoryBytes}B`);
    }
  }
  for (const n of spec.TaskTemplate.Networks ?? []) lines.push(`Networks:\t${n.Target} `);
  lines.push(`Endpoint Mode:\t${spec.EndpointSpec?.Mode ?? 'vip'}`);
  const ports = s.Endpoint?.Ports ?? [];
  if (ports.length) {
    lines.push('Ports:');
    for (const p of ports) lines.push(` PublishedPort = ${p.PublishedPort}`, `  Protocol = ${p.Protocol}`, `  TargetPort = ${p.TargetPort}`, `  PublishMode = ${p.PublishMode}`);
  }
  return `${lines.join('\n')} \n`;
}
