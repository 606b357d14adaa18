// The project name: -p, else COMPOSE_PROJECT_NAME (shell or .env), else top-level `name:`, else the project
// directory's base name; normalised as Compose does. An explicit -p that is not already normal is refused.
import { basename } from 'node:path';
import { ComposeFileError } from './errors';

export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

export class InvalidProjectNameError extends ComposeFileError {
  constructor(name: string) {
    super(undefined, `invalid project name ${JSON.stringify(name)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
    this.name = 'InvalidProjectNameError';
  }
}

export function projectName(explicit: string | undefined, fromEnv: string | undefined, fromFile: string | undefined, projectDir: string): string {
  for (const given of [explicit, fromEnv]) {
    if (given === undefined || given === '') continue;
    if (normalizeProjectName(given) !== given) throw new InvalidProjectNameError(given);
    return given;
  }
  const fileName = fromFile ? normalizeProjectName(fromFile) : '';
  if (fileName !== '') return fileName;
  const dirName = normalizeProjectName(basename(projectDir));
  if (dirName === '') throw new InvalidProjectNameError(basename(projectDir));
  return dirName;
}
