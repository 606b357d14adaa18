// One `docker compose` invocation's context: the streams and API client (berth's Cli), the project flags
// (-f, -p, --env-file, --profile...), and the project they load, loaded once and only when a verb needs it.
import type { Cli } from '../../cli/command';
import type { LoadedProject } from '../load/index';
import type { ProjectOperations, Reporter } from '../project/operations';
import { LineReporter, type ProgressMode } from './reporter';

/** The flags every compose verb accepts (Compose's persistent flags). */
export interface ProjectFlags {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
  parallel?: string;
  ansi?: string;
  progress?: string;
  dryRun?: boolean;
}

export class ComposeSession {
  flags: ProjectFlags = {};
  private loaded: Promise<LoadedProject> | undefined;

  /** `programName`: "docker compose" or "berth compose", for messages that name the command. */
  constructor(readonly cli: Cli, readonly programName: string) {}

  get env(): NodeJS.ProcessEnv { return this.cli.env; }

  /** Loads the project from the files (once); `services` enables their profiles as Compose does. */
  load(options: { services?: string[]; interpolate?: boolean } = {}): Promise<LoadedProject> {
    this.loaded ??= (async () => {
      const { loadProject } = require('../load/index') as typeof import('../load/index');
      return loadProject({
        files: this.flags.file ?? [],
        projectDirectory: this.flags.projectDirectory,
        projectName: this.flags.projectName,
        envFiles: this.flags.envFile,
        profiles: this.flags.profile,
        env: this.env,
        interpolate: options.interpolate ?? true,
        cwd: process.cwd(),
        services: options.services,
      });
    })();
    return this.loaded;
  }

  /**
   * The project's name without reading files when it is given (-p, COMPOSE_PROJECT_NAME): the read-only
   * verbs (ps, logs, exec...) then work in any directory, as Compose's do.
   */
  async projectName(): Promise<string> {
    const given = this.flags.projectName || this.env.COMPOSE_PROJECT_NAME;
    if (given) return normaliseProjectName(given);
    return (await this.load()).project.name;
  }

  reporter(): Reporter {
    return new LineReporter(this.cli.err, this.progressMode());
  }

  progressMode(): ProgressMode {
    const mode = this.flags.progress ?? this.env.COMPOSE_PROGRESS ?? 'auto';
    return mode as ProgressMode;
  }

  async operations(): Promise<ProjectOperations> {
    const { project, envFiles } = await this.load();
    const { ProjectOperations } = require('../project/operations') as typeof import('../project/operations');
    const parallelism = this.parallelism();
    return new ProjectOperations(this.cli.api, project, this.reporter(), {
      env: this.env, envFiles, ...(parallelism > 0 ? { parallelism } : {}),
    });
  }

  /** The bounded parallelism (--parallel, COMPOSE_PARALLEL_LIMIT); -1 means unbounded. */
  parallelism(): number {
    const n = Number(this.flags.parallel ?? this.env.COMPOSE_PARALLEL_LIMIT ?? -1);
    return Number.isInteger(n) && n !== 0 ? n : -1;
  }
}

/** Compose's normalisation of a project name: lowercase, only [a-z0-9_-], starting with a letter or digit. */
export function normaliseProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}
