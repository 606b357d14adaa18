// The Compose loader's one entry: files → parsed YAML → interpolated → validated against the compose-spec
// schema → long forms → includes/extends → merged → profiles → normalised into the project model.
// CONTRACT (the CLI codes against it): LoadOptions, loadProject, LoadedProject, VariableUse, ComposeFileError.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Project } from '../model';
import { composeFiles } from './discover';
import { projectEnvironment } from './environment';
import { VariableLog } from './interpolate';
import { loadFile } from './document';
import { mergeDocuments } from './merge';
import { activeProfiles, applyProfiles } from './profiles';
import { projectName } from './project-name';
import { checkConsistency, toProject } from './normalize';

export { ComposeFileError } from './errors';

export interface LoadOptions {
  /** -f files as given (relative to cwd); empty: discover compose.yaml & co. (and compose.override.*) from cwd upwards. `-` reads stdin. */
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
  /** The text of `-f -` (default: read from stdin). */
  stdin?: string;
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

export async function loadProject(options: LoadOptions): Promise<LoadedProject> {
  const cwd = resolve(options.cwd);
  const explicitEnvFiles = options.envFiles?.map((f) => resolve(cwd, f));
  // COMPOSE_FILE may come from the .env of the directory the command runs in.
  const early = projectEnvironment(options.env, options.projectDirectory ? resolve(cwd, options.projectDirectory) : cwd, explicitEnvFiles);
  const files = composeFiles(options.files, cwd, { COMPOSE_FILE: early.get('COMPOSE_FILE'), COMPOSE_PATH_SEPARATOR: early.get('COMPOSE_PATH_SEPARATOR') });
  const firstReal = files.find((f) => f !== '-');
  const workingDir = options.projectDirectory ? resolve(cwd, options.projectDirectory) : firstReal ? dirname(firstReal) : cwd;
  // A .env that chose the files (COMPOSE_FILE) stays in effect beside the project directory's own, and wins.
  const chooserDir = !options.files.length && !options.projectDirectory && options.env.COMPOSE_FILE === undefined && early.get('COMPOSE_FILE') ? [cwd] : [];
  const environment = projectEnvironment(options.env, [...chooserDir, workingDir], explicitEnvFiles);
  const log = new VariableLog();
  const env = { lookup: environment.lookup, log, interpolate: options.interpolate !== false, shell: options.env };

  let merged: Record<string, unknown> = {};
  for (const file of files) {
    const text = file === '-' ? (options.stdin ?? readFileSync(0, 'utf8')) : undefined;
    for (const loaded of loadFile(file, env, workingDir, [], text)) merged = mergeDocuments(merged, loaded.doc);
  }

  // Already interpolated with the rest of its document.
  const fileName = typeof merged.name === 'string' ? merged.name : undefined;
  const name = projectName(options.projectName, environment.get('COMPOSE_PROJECT_NAME'), fileName, workingDir);
  const configFiles = files.map((f) => (f === '-' ? resolve(cwd, '-') : f));
  const needed = neededServices(merged, options.services);
  const normalized = toProject(merged, { name, workingDir, configFiles, lookup: environment.lookup, file: files[0], envFilesNeeded: (s) => needed === undefined || needed.has(s) });
  const profiles = activeProfiles(options.profiles, environment.get('COMPOSE_PROFILES'));
  const { enabled, disabled } = applyProfiles(normalized.services, profiles, options.services);
  const project: Project = { ...normalized, services: enabled, disabled_services: disabled };
  checkConsistency(project, disabled, files[0]);
  return { project, variables: log.list(), envFiles: environment.files };
}

/** The services named on the command line and what they depend on; undefined when none is named (all are). */
function neededServices(merged: Record<string, unknown>, named: string[] | undefined): Set<string> | undefined {
  if (!named || named.length === 0) return undefined;
  const services = (merged.services ?? {}) as Record<string, { depends_on?: Record<string, unknown> }>;
  const out = new Set<string>();
  const visit = (s: string) => {
    if (out.has(s)) return;
    out.add(s);
    for (const dep of Object.keys(services[s]?.depends_on ?? {})) visit(dep);
  };
  named.forEach(visit);
  return out;
}
