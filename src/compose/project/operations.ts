// What Compose does to a daemon for a project: the use-cases every `docker compose` verb calls.
// CONTRACT (filled in by the convergence work): the CLI codes against these signatures; the bodies
// live in this directory's modules (naming, labels, config hash, plan, dependency order, waits).
import type { ApiClient } from '../../cli/api-client';
import type { Project } from '../model';

/** One line of Compose v2's progress output: `✔ Container app-web-1  Started`. */
export interface ProgressEvent {
  kind: 'Container' | 'Network' | 'Volume' | 'Image' | 'Service';
  name: string;
  /** Compose v2's words: Creating/Created, Recreate/Recreated, Starting/Started, Waiting/Healthy/Exited,
   *  Stopping/Stopped, Removing/Removed, Pulling/Pulled, Building/Built, Running, Error, Warning. */
  status: string;
  /** Why (a recreation names the field that changed; an error says what failed). */
  detail?: string;
  done: boolean;
  error?: boolean;
}

export interface Reporter {
  event(e: ProgressEvent): void;
  /** A warning line on stderr (orphans, ignored keys). */
  warn(message: string): void;
}

/** A container of the project as `ps` shows it (from the daemon's list, by labels). */
export interface ProjectContainer {
  id: string;
  name: string;
  service: string;
  number: number;
  oneoff: boolean;
  image: string;
  command: string;
  created: number;
  state: string;
  status: string;
  health: string;
  exitCode: number;
  labels: Record<string, string>;
  ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  networks: string[];
}

export interface UpOptions {
  /** Services named on the command line (with their dependencies unless noDeps). Empty: all. */
  services: string[];
  noDeps: boolean;
  build: 'auto' | 'always' | 'never';
  /** --pull; 'policy' follows each service's pull_policy. */
  pull: 'always' | 'missing' | 'never' | 'policy';
  recreate: 'diverged' | 'force' | 'never';
  /** false for --no-start (create only). */
  start: boolean;
  scale: Record<string, number>;
  removeOrphans: boolean;
  /** Stop timeout in seconds for recreations (-t). */
  timeout?: number;
  /** --wait: wait for running/healthy (a one-shot service that exited 0 counts as done). */
  wait: boolean;
  waitTimeout?: number;
}

export interface DownOptions {
  removeOrphans: boolean;
  volumes: boolean;
  rmi?: 'local' | 'all';
  timeout?: number;
}

export interface RunOptions {
  service: string;
  command?: string[];
  entrypoint?: string[];
  env: string[];
  name?: string;
  user?: string;
  workdir?: string;
  publish: string[];
  servicePorts: boolean;
  noDeps: boolean;
  remove: boolean;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  labels: string[];
  volumes: string[];
}

export class ProjectOperations {
  constructor(readonly api: ApiClient, readonly project: Project, readonly reporter: Reporter) {}

  /** Converges the daemon onto the project: networks, volumes, images, then containers in dependency order. */
  async up(_options: UpOptions): Promise<void> { throw new Error('compose up: not implemented yet'); }
  async create(options: Omit<UpOptions, 'start' | 'wait' | 'waitTimeout'>): Promise<void> { return this.up({ ...options, start: false, wait: false }); }
  async down(_options: DownOptions): Promise<void> { throw new Error('compose down: not implemented yet'); }
  async start(_services: string[]): Promise<void> { throw new Error('not implemented yet'); }
  async stop(_services: string[], _timeout?: number): Promise<void> { throw new Error('not implemented yet'); }
  async restart(_services: string[], _timeout?: number, _noDeps?: boolean): Promise<void> { throw new Error('not implemented yet'); }
  async kill(_services: string[], _signal: string): Promise<void> { throw new Error('not implemented yet'); }
  async pause(_services: string[]): Promise<void> { throw new Error('not implemented yet'); }
  async unpause(_services: string[]): Promise<void> { throw new Error('not implemented yet'); }
  async remove(_services: string[], _options: { stop: boolean; volumes: boolean }): Promise<void> { throw new Error('not implemented yet'); }
  async build(_services: string[], _options: { noCache: boolean; pull: boolean; quiet: boolean }): Promise<void> { throw new Error('not implemented yet'); }
  async pull(_services: string[], _options: { ignoreFailures: boolean; quiet: boolean }): Promise<void> { throw new Error('not implemented yet'); }
  async push(_services: string[], _options: { ignoreFailures: boolean }): Promise<void> { throw new Error('not implemented yet'); }
  /** Sets a service's replica count (up --scale for one service, without touching the others). */
  async scale(_scales: Record<string, number>, _noDeps: boolean): Promise<void> { throw new Error('not implemented yet'); }
  /** Creates (and, unless detached, leaves to the caller to attach to) a one-off container; returns its ID. */
  async createOneOff(_options: RunOptions): Promise<{ id: string; name: string }> { throw new Error('not implemented yet'); }
  /** The project's containers (one-offs only with oneoff), in service then number order. */
  async containers(_options: { all: boolean; services?: string[]; oneoff?: boolean }): Promise<ProjectContainer[]> { throw new Error('not implemented yet'); }
}
