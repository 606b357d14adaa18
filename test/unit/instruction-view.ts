// The build tests' reading view of parsed Dockerfile instructions. (No tests here.)
import type { CommandForm, Heredoc, Instruction, InstructionKind, SourceRange } from '../../src/build/instructions';

/** A command as the tests read it: `command` of the shell form and `args` of the exec form on one type. */
export interface CommandView { form: CommandForm['form']; command: string; args: string[] }

/**
 * Every instruction kind's fields on one type, so a test reads the fields of the kind it just parsed without
 * narrowing on `kind` first. A field the kind lacks is undefined at run time, and the assertion on it fails.
 * HEALTHCHECK NONE's command is the string 'NONE'; SHELL's args are strings, ARG's are name/default pairs.
 */
export interface InstructionView extends SourceRange {
  kind: InstructionKind;
  original: string;
  flags: Record<string, string>;
  image: string;
  stageName?: string;
  command: CommandView;
  heredocs: Heredoc[];
  pairs: [key: string, value: string][];
  name: string;
  ports: string[];
  sources: string[];
  dest: string;
  paths: string[];
  user: string;
  path: string;
  args: Array<{ name: string; defaultValue?: string }> | string[];
  trigger: string;
  signal: string;
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

/** The view of one parsed instruction. */
export function view(ins: Instruction): InstructionView {
  return ins as unknown as InstructionView;
}
