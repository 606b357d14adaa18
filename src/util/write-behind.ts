// Starts flushing what a long write has put in the page cache while it is still writing, so the sync at its end
// (which makes it durable) waits only for the last stretch instead of the whole of it.

/** After this many bytes written since the last flush began, another one is started (when none is running). */
export const DEFAULT_FLUSH_EVERY = 64 * 1024 * 1024;

/**
 * Counts bytes as they are written, with the files they went to, and runs `flush` in the background every
 * `every` bytes with the files written since the last one, one flush at a time. Nothing waits on it but
 * settle(): durability still comes from the caller's own sync at the end; this only moves most of the disk work
 * under the streaming (the kernel's own writeback starts at 10% of RAM dirty, past a whole pull on any machine
 * with a few GiB, so without it the disk idles until the final sync). Naming the files lets the flush leave
 * alone what is written beside them and deleted before the end (a pull's compressed downloads), which a whole
 * filesystem's flush would write to the disk for nothing.
 */
export class WriteBehind {
  private sinceFlush = 0;
  private files = new Set<string>();
  private running: Promise<void> | null = null;

  constructor(private readonly flush: (files: string[]) => Promise<void>, private readonly every = DEFAULT_FLUSH_EVERY) {}

  /** `n` more bytes were written to `file`. */
  wrote(file: string, n: number): void {
    this.files.add(file);
    this.sinceFlush += n;
    if (this.running || this.sinceFlush < this.every) return;
    this.sinceFlush = 0;
    const files = [...this.files];
    this.files.clear();
    // A failed early flush is not an error of the write: the final sync reports what is wrong with the disk.
    this.running = this.flush(files).catch(() => undefined).finally(() => { this.running = null; });
  }

  /** Resolves once no flush is running (before the caller's final sync, which then has less left to do). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }
}
