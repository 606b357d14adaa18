// The parsed Dockerfile: what the front end (dockerfile.ts) hands to the build executor. Words are kept raw:
// variable substitution happens at execution time, with the stage's ARG/ENV values (see expand.ts).

/** Where an instruction was written: 1-based line numbers in the Dockerfile (a continued line spans several). */
export interface SourceRange { line: number; endLine: number }

interface Base extends SourceRange {
  /** The instruction as written, continuations joined (what `Step 3/7 : ...` prints and the cache key hashes). */
  original: string;
  /** `--name=value` flags before the arguments, as written (values unexpanded). A flag without a value is "".
   *  A repeatable flag (`--exclude`, `--mount`) given several times has its values joined by "\n". */
  flags: Record<string, string>;
}

/** A heredoc body (`<<EOF` ... `EOF`), for RUN, COPY and ADD. */
export interface Heredoc {
  /** The delimiter word as written, without quotes. */
  name: string;
  content: string;
  /** `<<-` strips leading tabs; already applied to content. */
  chomp: boolean;
  /** A quoted delimiter (`<<"EOF"`) disables expansion inside the body. */
  expand: boolean;
}

/** CMD, ENTRYPOINT, RUN and SHELL/HEALTHCHECK commands: exec form (JSON array) or shell form (one string). */
export type CommandForm = { form: 'exec'; args: string[] } | { form: 'shell'; command: string };

export type Instruction =
  | (Base & { kind: 'FROM'; image: string; stageName?: string })
  | (Base & { kind: 'RUN'; command: CommandForm; heredocs: Heredoc[] })
  | (Base & { kind: 'CMD'; command: CommandForm })
  | (Base & { kind: 'ENTRYPOINT'; command: CommandForm })
  | (Base & { kind: 'LABEL'; pairs: [key: string, value: string][] })
  | (Base & { kind: 'MAINTAINER'; name: string })
  | (Base & { kind: 'EXPOSE'; ports: string[] })
  | (Base & { kind: 'ENV'; pairs: [key: string, value: string][] })
  | (Base & { kind: 'ADD' | 'COPY'; sources: string[]; dest: string; heredocs: Heredoc[] })
  | (Base & { kind: 'VOLUME'; paths: string[] })
  | (Base & { kind: 'USER'; user: string })
  | (Base & { kind: 'WORKDIR'; path: string })
  | (Base & { kind: 'ARG'; args: { name: string; defaultValue?: string }[] })
  | (Base & { kind: 'ONBUILD'; trigger: string })
  | (Base & { kind: 'STOPSIGNAL'; signal: string })
  | (Base & {
      kind: 'HEALTHCHECK';
      command: CommandForm | 'NONE';
      /** The flags already checked and converted as Docker does: durations in nanoseconds (0 = the default). */
      interval?: number;
      timeout?: number;
      startPeriod?: number;
      startInterval?: number;
      retries?: number;
    })
  | (Base & { kind: 'SHELL'; args: string[] });

export type InstructionKind = Instruction['kind'];

export interface Stage {
  /** 0-based position; `COPY --from=0` refers to it. */
  index: number;
  /** `FROM ... AS name`, lower-cased as Docker compares stage names. */
  name?: string;
  from: Extract<Instruction, { kind: 'FROM' }>;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** The `# escape=` directive (default backslash). */
  escape: '\\' | '`';
  /** `# syntax=` if given: ignored by the classic builder, reported as a warning. */
  syntax?: string;
  /** ARGs before the first FROM (usable in FROM lines, and re-declared in stages). */
  globalArgs: Extract<Instruction, { kind: 'ARG' }>[];
  stages: Stage[];
  warnings: string[];
}
