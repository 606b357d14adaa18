// Newline-delimited JSON as it streams (GET /events, GET /berth/stats): chunks in, whole parsed values out.

/** Splits decoded text into JSON values, one a line; a partial line waits for the next chunk. */
export class NdjsonSplitter<T> {
  private rest = '';
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array): T[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop()!;
    const out: T[] = [];
    for (const line of lines) {
      const trimmed = line.trim();
      // A line that is not JSON (a proxy's error page, a truncated write) is skipped rather than ending the stream.
      if (!trimmed) continue;
      try { out.push(JSON.parse(trimmed) as T); } catch { /* skipped: see above */ }
    }
    return out;
  }
}
