// What Compose does to a daemon for a project: the use-cases every `docker compose` verb calls.
// The CLI codes against these signatures; each use-case lives in its own module of this directory (up, down,
// lifecycle, image-commands, one-off, containers), over the narrow daemon adapter of compose-api.ts.
import type { ApiClient } from '../../cli/api-client';
import type { Project } from '../model';
import { EngineComposeApi, type ComposeApi } from './compose-api';
import { listContainers } from './containers';
import { withDefaultNetwork, type ProjectContext } from './context';
import { DEFAULT_PARALLELISM } from './dependency-order';
import { down } from './down';
import { buildServices, pullServices, pushServices } from './image-commands';
import * as lifecycle from './lifecycle';
import { createOneOff } from './one-off';
import { up } from './up';

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

/** How the operations reach the daemon and the shell; tests give a fake ComposeApi. */
export interface OperationsSetup {
  composeApi?: ComposeApi;
  env?: NodeJS.ProcessEnv;
  /** How many services (or containers) are worked on at once (default 8). */
  parallelism?: number;
  /** The --env-file files given (absolute), for the com.docker.compose.project.environment_file label. */
  envFiles?: string[];
}

export class ProjectOperations {
  private readonly ctx: ProjectContext;

  constructor(readonly api: ApiClient, readonly project: Project, readonly reporter: Reporter, setup: OperationsSetup = {}) {
    const env = setup.env ?? process.env;
    this.ctx = {
      api: setup.composeApi ?? new EngineComposeApi(api, env), project: withDefaultNetwork(project), reporter, env,
      parallelism: setup.parallelism ?? DEFAULT_PARALLELISM, envFiles: setup.envFiles,
    };
  }

  /** Converges the daemon onto the project: networks, volumes, images, then containers in dependency order. */
  up(options: UpOptions): Promise<void> { return up(this.ctx, options); }
  create(options: Omit<UpOptions, 'start' | 'wait' | 'waitTimeout'>): Promise<void> { return this.up({ ...options, start: false, wait: false }); }
  down(options: DownOptions): Promise<void> { return down(this.ctx, options); }
  start(services: string[]): Promise<void> { return lifecycle.start(this.ctx, services); }
  stop(services: string[], timeout?: number): Promise<void> { return lifecycle.stop(this.ctx, services, timeout); }
  restart(services: string[], timeout?: number, noDeps?: boolean): Promise<void> { return lifecycle.restart(this.ctx, services, timeout, noDeps ?? true); }
  kill(services: string[], signal: string): Promise<void> { return lifecycle.kill(this.ctx, services, signal); }
  pause(services: string[]): Promise<void> { return lifecycle.pause(this.ctx, services); }
  unpause(services: string[]): Promise<void> { return lifecycle.unpause(this.ctx, services); }
  remove(services: string[], options: { stop: boolean; volumes: boolean }): Promise<void> { return lifecycle.remove(this.ctx, services, options); }
  build(services: string[], options: { noCache: boolean; pull: boolean; quiet: boolean }): Promise<void> { return buildServices(this.ctx, services, options); }
  pull(services: string[], options: { ignoreFailures: boolean; quiet: boolean }): Promise<void> { return pullServices(this.ctx, services, options); }
  push(services: string[], options: { ignoreFailures: boolean }): Promise<void> { return pushServices(this.ctx, services, options); }
  /** Sets a service's replica count (up --scale for one service, without touching the others). */
  scale(scales: Record<string, number>, noDeps: boolean): Promise<void> {
    return up(this.ctx, {
      services: Object.keys(scales), noDeps, build: 'auto', pull: 'policy', recreate: 'diverged', start: true,
      scale: scales, removeOrphans: false, wait: false,
    });
  }
  /** Creates (and, unless detached, leaves to the caller to attach to) a one-off container; returns its ID. */
  createOneOff(options: RunOptions): Promise<{ id: string; name: string }> { return createOneOff(this.ctx, options); }
  /** The project's containers (one-offs only with oneoff), in service then number order. */
  containers(options: { all: boolean; services?: string[]; oneoff?: boolean }): Promise<ProjectContainer[]> { return listContainers(this.ctx, options); }
}
