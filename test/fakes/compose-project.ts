// Projects built by hand for the project use-cases' tests (the loader is not involved): a name, services,
// the default network and whatever networks/volumes a test adds, plus a Reporter that remembers what it was told.
import type { Project, Service } from '../../src/compose/model';
import type { ProgressEvent, Reporter } from '../../src/compose/project/operations';

export function projectOf(name: string, services: Record<string, Omit<Service, 'name'>>, extra: Partial<Project> = {}): Project {
  return {
    name,
    working_dir: '/srv/app',
    config_files: ['/srv/app/compose.yaml'],
    services: Object.fromEntries(Object.entries(services).map(([k, s]) => [k, { name: k, ...s } as Service])),
    disabled_services: {},
    networks: { default: { name: `${name}_default` }, ...(extra.networks ?? {}) },
    volumes: extra.volumes ?? {},
    secrets: extra.secrets ?? {},
    configs: extra.configs ?? {},
    ...(extra.working_dir ? { working_dir: extra.working_dir } : {}),
  };
}

export class RecordingReporter implements Reporter {
  readonly events: ProgressEvent[] = [];
  readonly warnings: string[] = [];
  event(e: ProgressEvent): void { this.events.push(e); }
  warn(message: string): void { this.warnings.push(message); }
  /** "Container app-web-1 Created" lines of the finished events. */
  lines(): string[] { return this.events.filter((e) => e.done).map((e) => `${e.kind} ${e.name} ${e.status}${e.detail ? ` (${e.detail})` : ''}`); }
}
