// How a client program ends, for `berth` and the compose plugin alike: a reader that went away ends it
// quietly (exit 141, as SIGPIPE ends docker's CLI), and the exit waits for piped stdout to drain.

/** Runs `work` as the program and exits with the status it gives. */
export function exitWhenDone(work: () => Promise<number>): void {
  for (const out of [process.stdout, process.stderr]) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(141);
      throw err;
    });
  }
  work().then((code) => {
    process.exitCode = code;
    if (process.stdout.writableLength === 0) process.exit(code);
    process.stdout.once('drain', () => process.exit(code));
  }, (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
