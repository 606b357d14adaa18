// Removing a file a failed streamed write left. A source that fails before the write stream has opened its
// file makes the stream open (create) it after the pipeline has failed, so the file is removed only once the
// stream has closed — else it would reappear after the removal.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { once } from 'node:events';

export async function discardPartialFile(out: fs.WriteStream, file: string): Promise<void> {
  if (!out.closed) await once(out, 'close').catch(() => undefined);
  await fsp.rm(file, { force: true });
}
