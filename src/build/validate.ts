// Checks on a parsed Dockerfile that need the whole file: stage names, --target, COPY --from references. The
// per-line checks (unknown instruction, arguments, JSON, flags) are made by parseDockerfile as Docker makes them.

import { DockerfileError } from './dockerfile';
import type { Dockerfile, Stage } from './instructions';

export { DockerfileError };

export interface ValidateOptions {
  /** `--target`: the stage to stop at (compared case-insensitively, as Docker does). */
  target?: string;
}

export interface BuildPlan {
  /** The stages to build, in order: all of them, or up to and including the target. */
  stages: Stage[];
  /** Index of the last stage built (the target, or the last stage). */
  targetIndex: number;
}

/** Validate and cut at the target; throws DockerfileError (an InvalidParameterError) with Docker's words. */
export function validateDockerfile(df: Dockerfile, options: ValidateOptions = {}): BuildPlan {
  const byName = new Map<string, Stage>();
  for (const stage of df.stages) {
    if (stage.name === undefined) continue;
    if (byName.has(stage.name)) throw new DockerfileError(`${stage.name} stage name already used`, stage.from.line, stage.from.endLine);
    byName.set(stage.name, stage);
  }

  let targetIndex = df.stages.length - 1;
  if (options.target !== undefined && options.target !== '') {
    const t = byName.get(options.target.toLowerCase());
    if (!t) throw new DockerfileError(`target stage ${JSON.stringify(options.target)} could not be found`);
    targetIndex = t.index;
  }

  for (const stage of df.stages.slice(0, targetIndex + 1)) {
    for (const ins of stage.instructions) {
      if (ins.kind !== 'COPY') continue;
      const from = ins.flags.from;
      // Substituted references can only be checked once substituted; unknown names are image references.
      if (from === undefined || from === '' || from.includes('$')) continue;
      const fail = (detail: string): never => {
        throw new DockerfileError(detail, ins.line, ins.endLine);
      };
      if (/^\d+$/.test(from)) {
        if (Number(from) >= stage.index) fail(`invalid from flag value ${from}: invalid stage index ${from}`);
        continue;
      }
      const ref = byName.get(from.toLowerCase());
      if (!ref) continue;
      if (ref.index === stage.index) fail(`circular dependency detected on stage: ${ref.name}`);
      if (ref.index > stage.index) {
        fail(`invalid from flag value ${from}: stage ${ref.name} is defined later in the Dockerfile (line ${ref.from.line})`);
      }
    }
  }
  return { stages: df.stages.slice(0, targetIndex + 1), targetIndex };
}
