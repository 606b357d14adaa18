// What every use-case of the project works with: the daemon adapter, the project, where progress goes, and the
// shell environment (for `environment: [FOO]` and registry credentials); plus reading the project's containers.
import type { Project } from '../model';
import { LABEL } from '../model';
import type { ComposeApi } from './compose-api';
import { projectFilter } from './labels';
import { observedContainer, type ObservedContainer } from './plan';
import type { ProgressEvent, Reporter } from './operations';

export interface ProjectContext {
  api: ComposeApi;
  project: Project;
  reporter: Reporter;
  env: NodeJS.ProcessEnv;
  parallelism?: number;
  /** The --env-file files given (absolute), for the environment_file label. */
  envFiles?: string[];
}

/**
 * The project with its `default` network declared when a service uses it implicitly (no networks:, no
 * network_mode) and the loader did not declare it: Compose always gives such services `<project>_default`.
 */
export function withDefaultNetwork(project: Project): Project {
  if (project.networks.default) return project;
  const all = [...Object.values(project.services), ...Object.values(project.disabled_services)];
  const implicit = all.some((s) => !s.network_mode && (!s.networks || Object.keys(s.networks).length === 0));
  return implicit ? { ...project, networks: { ...project.networks, default: { name: `${project.name}_default` } } } : project;
}

/** The project's containers from the daemon (all states); one-offs only when asked. */
export async function projectContainers(ctx: ProjectContext, options: { oneoff?: boolean; services?: string[] } = {}): Promise<ObservedContainer[]> {
  const labels = [projectFilter(ctx.project)];
  if (options.oneoff === false) labels.push(`${LABEL.oneoff}=False`);
  const list = (await ctx.api.listContainers(labels, true)).map(observedContainer);
  const wanted = options.services?.length ? new Set(options.services) : undefined;
  return list
    .filter((c) => !wanted || wanted.has(c.service))
    .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.number - b.number));
}

/** Reports a step that starts (`working`) and ends with `done`, or an error event naming what failed. */
export async function reported<T>(reporter: Reporter, e: Omit<ProgressEvent, 'status' | 'done'>, working: string, done: string, fn: () => Promise<T>, detail?: string): Promise<T> {
  reporter.event({ ...e, status: working, done: false, detail });
  try {
    const out = await fn();
    reporter.event({ ...e, status: done, done: true, detail });
    return out;
  } catch (err) {
    reporter.event({ ...e, status: 'Error', done: true, error: true, detail: (err as Error).message });
    throw err;
  }
}
