// The loader's error: a compose file is wrong. Its own module so every step can raise it without a cycle
// through the entry (index.ts re-exports it, which is where the CLI imports it from).

/** A compose file is wrong: names the file, the line when known, the path in the document, and the problem. */
export class ComposeFileError extends Error {
  /** Compose v2 exits 15 for an invalid file. */
  readonly exitCode = 15;
  constructor(readonly file: string | undefined, readonly problem: string, readonly path?: string, readonly line?: number) {
    super(`${file ?? 'compose'}${line !== undefined ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${problem}`);
    this.name = 'ComposeFileError';
  }
}
