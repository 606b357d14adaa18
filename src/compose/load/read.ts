// Reads one compose file into its documents in long form: text → YAML → interpolation → schema validation →
// scalars typed → short syntaxes expanded and relative paths resolved. Includes and extends come after (document.ts).
import { readFileSync } from 'node:fs';
import { ComposeFileError } from './errors';
import { parseComposeYaml, type LineMap } from './yaml';
import { interpolateDocument, type Lookup, type VariableLog } from './interpolate';
import { validateDocument } from './schema';
import { castScalars } from './cast';
import { canonicalDocument, type DocumentContext } from './canonical';

/** What a file is read with: the variables it sees and whether to substitute them. */
export interface FileEnvironment {
  lookup: Lookup;
  log: VariableLog;
  interpolate: boolean;
  /** The shell's environment (included projects build their own lookups from it). */
  shell: NodeJS.ProcessEnv;
  /** Files already read for extends in this load. */
  extendsCache?: Map<string, { services: Record<string, unknown>; lines?: LineMap }>;
}

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ComposeFileError(file, code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${(e as Error).message}`);
  }
}

export interface CanonicalDocument {
  doc: Record<string, unknown>;
  ctx: DocumentContext;
}

export function readDocuments(file: string, env: FileEnvironment, baseDir: string, text?: string): CanonicalDocument[] {
  return parseComposeYaml(text ?? readText(file), file).map((parsed) => {
    const doc = env.interpolate ? interpolateDocument(parsed.value, env.lookup, env.log, file, parsed.lines) : parsed.value;
    if (env.interpolate) validateDocument(doc, file, parsed.lines);
    const typed = env.interpolate ? castScalars(doc, file, parsed.lines) : doc;
    const ctx: DocumentContext = { file, baseDir, lines: parsed.lines, lenient: !env.interpolate };
    return { doc: canonicalDocument(ctx, typed), ctx };
  });
}
