// `compose ls`: the projects the daemon's containers belong to (by Compose's labels), with their states
// counted ("exited(1), running(2)") and their config files; Compose's table or a JSON array.
import { Command } from 'commander';
import { encodeFilters } from '../../../cli/api-client';
import { BerthCommand, collect, StatusError } from '../../../cli/command';
import { tabwrite } from '../../../cli/format/table';
import type { ContainerSummary } from '../../../wire/docker';
import { LABEL } from '../../model';
import type { ComposeSession } from '../session';

export interface Stack { Name: string; Status: string; ConfigFiles: string }

/** Groups containers into projects as Compose's List does: sorted by name, states counted, files deduplicated. */
export function stacksOf(containers: Pick<ContainerSummary, 'Labels' | 'State'>[]): Stack[] {
  const byProject = new Map<string, Pick<ContainerSummary, 'Labels' | 'State'>[]>();
  for (const c of containers) {
    const name = c.Labels?.[LABEL.project];
    if (name === undefined) continue;
    byProject.set(name, [...(byProject.get(name) ?? []), c]);
  }
  return [...byProject.keys()].sort().map((name) => {
    const list = byProject.get(name)!;
    const counts = new Map<string, number>();
    for (const c of list) counts.set(c.State, (counts.get(c.State) ?? 0) + 1);
    const status = [...counts.keys()].sort().map((st) => `${st}(${counts.get(st)})`).join(', ');
    const files: string[] = [];
    let missing = false;
    for (const c of list) {
      const label = c.Labels[LABEL.configFiles];
      if (label === undefined) { missing = true; continue; }
      for (const f of label.split(',')) if (!files.includes(f)) files.push(f);
    }
    return { Name: name, Status: status, ConfigFiles: missing ? 'N/A' : files.join(',') };
  });
}

/** Compose's name filter: an exact name or a regular expression that matches it. */
export function matchesName(filters: string[], name: string): boolean {
  return filters.some((f) => {
    if (f === name) return true;
    try { return new RegExp(f).test(name); } catch { return false; }
  });
}

export function renderStacks(stacks: Stack[], format: string | undefined, quiet: boolean): string {
  if (quiet) return stacks.map((st) => `${st.Name}\n`).join('');
  switch ((format ?? 'table').toLowerCase()) {
    case 'table': case 'pretty': case '':
      return tabwrite(['NAME\tSTATUS\tCONFIG FILES\n', ...stacks.map((st) => `${st.Name}\t${st.Status}\t${st.ConfigFiles}\n`)].join(''), 20, 3);
    case 'json':
      return `${JSON.stringify(stacks)}\n`;
    default:
      throw new StatusError(1, `format value "${format}" could not be parsed: parsing failed`);
  }
}

export function lsCommand(s: ComposeSession): Command {
  return new BerthCommand('ls')
    .description('List running compose projects')
    .option('-a, --all', 'Show all stopped Compose projects')
    .option('--filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .option('-q, --quiet', 'Only display project names')
    .action(async (o: { all?: boolean; filter?: string[]; format?: string; quiet?: boolean }) => {
      const names: string[] = [];
      for (const f of o.filter ?? []) {
        const eq = f.indexOf('=');
        const key = eq < 0 ? f : f.slice(0, eq);
        if (key !== 'name') throw new StatusError(1, `invalid filter '${key}'`);
        names.push(f.slice(eq + 1));
      }
      const list = await s.cli.api.json<ContainerSummary[]>('GET', '/containers/json', {
        query: { all: o.all || undefined, filters: encodeFilters({ label: [LABEL.project, LABEL.configHash] }) },
      });
      let stacks = stacksOf(list);
      if (names.length) stacks = stacks.filter((st) => matchesName(names, st.Name));
      s.cli.out.write(renderStacks(stacks, o.format, !!o.quiet));
    });
}
