// The project's containers as `ps` shows them: the daemon's list by labels, turned into ProjectContainer and
// sorted by service then number (one-offs after, by name).
import type { ContainerSummary } from '../../wire/docker';
import { LABEL } from '../model';
import type { ProjectContext } from './context';
import { containerIdentity, projectFilter } from './labels';
import type { ProjectContainer } from './operations';

function health(status: string): string {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  return m ? m[1].replace('health: ', '') : '';
}

export function projectContainer(c: ContainerSummary): ProjectContainer {
  const exit = /^Exited \((-?\d+)\)/.exec(c.Status);
  return {
    ...containerIdentity(c),
    image: c.Image,
    command: c.Command,
    created: c.Created,
    state: c.State,
    status: c.Status,
    health: health(c.Status),
    exitCode: exit ? Number(exit[1]) : 0,
    ports: c.Ports ?? [],
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort(),
  };
}

export async function listContainers(ctx: ProjectContext, options: { all: boolean; services?: string[]; oneoff?: boolean }): Promise<ProjectContainer[]> {
  const labels = [projectFilter(ctx.project)];
  if (!options.oneoff) labels.push(`${LABEL.oneoff}=False`);
  const wanted = options.services?.length ? new Set(options.services) : undefined;
  return (await ctx.api.listContainers(labels, options.all))
    .map(projectContainer)
    .filter((c) => !wanted || wanted.has(c.service))
    .sort((a, b) => Number(a.oneoff) - Number(b.oneoff) || (a.service < b.service ? -1 : a.service > b.service ? 1 : 0) || a.number - b.number || (a.name < b.name ? -1 : 1));
}
