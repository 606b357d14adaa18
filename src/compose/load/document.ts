// One compose file through all its own steps: read in long form (read.ts), then its includes, then its
// extends. What comes out is ready to be merged with the project's other files.
import { applyExtends } from './extends';
import { applyIncludes } from './include';
import { readDocuments, type FileEnvironment } from './read';

export type { FileEnvironment };

export interface LoadedDocument {
  file: string;
  doc: Record<string, unknown>;
}

/** The file's documents, relative paths resolved against baseDir; `stack` holds the including files (cycles). */
export function loadFile(file: string, env: FileEnvironment, baseDir: string, stack: string[] = [], text?: string): LoadedDocument[] {
  return readDocuments(file, env, baseDir, text).map(({ doc, ctx }) => {
    const included = applyIncludes(doc, ctx, env, [...stack, file]);
    return { file, doc: applyExtends(included, ctx, env) };
  });
}
