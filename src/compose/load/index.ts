// The Compose loader's one entry: files → parsed YAML → merged → interpolated → extends/include →
// profiles → validated against the compose-spec schema → normalised into the project model.
// CONTRACT (filled in by the loader work): the signature and the error type are what the CLI codes against.
import type { Project } from '../model';

export interface LoadOptions {
  /** -f files as given (relative to cwd); empty: discover compose.yaml & co. (and compose.override.*) from cwd upwards. */
  files: string[];
  /** --project-directory; default: the first file's directory. */
  projectDirectory?: string;
  /** -p; else COMPOSE_PROJECT_NAME, top-level name:, the directory's base name. */
  projectName?: string;
  /** --env-file (repeatable); default: <project dir>/.env when it exists. */
  envFiles?: string[];
  /** --profile (repeatable); else COMPOSE_PROFILES. */
  profiles?: string[];
  /** The shell's environment (wins over .env). */
  env: NodeJS.ProcessEnv;
  /** false for `config --no-interpolate`. */
  interpolate?: boolean;
  /** Process cwd, for discovery and relative -f. */
  cwd: string;
  /** Services named on the command line: enables their profiles as Compose does. */
  services?: string[];
}

/** Where a variable's value came from, for `config --variables`. */
export type VariableSource = 'shell' | '.env' | '--env-file' | 'default' | 'unset';

export interface VariableUse {
  name: string;
  value: string | undefined;
  source: VariableSource;
  /** The default or alternative written in the file (`${X:-default}`), if any. */
  defaultValue?: string;
  required: boolean;
}

export interface LoadedProject {
  project: Project;
  variables: VariableUse[];
  /** The env files actually read (com.docker.compose.project.environment_file). */
  envFiles: string[];
}

/** A compose file is wrong: names the file, the line when known, the path in the document, and the problem. */
export class ComposeFileError extends Error {
  /** Compose v2 exits 15 for an invalid file. */
  readonly exitCode = 15;
  constructor(readonly file: string | undefined, readonly problem: string, readonly path?: string, readonly line?: number) {
    super(`${file ?? 'compose'}${line !== undefined ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${problem}`);
    this.name = 'ComposeFileError';
  }
}

export async function loadProject(_options: LoadOptions): Promise<LoadedProject> {
  throw new Error('compose loader: not implemented yet');
}
