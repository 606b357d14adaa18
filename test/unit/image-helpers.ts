// Shared by the image tests: builds tar archives in memory with tar-stream. (No tests here.)
// JavaScript integration tests reach the compiled form: require('../../dist-test/test/unit/image-helpers').
import * as tar from 'tar-stream';

/** One entry of a test tar: tar-stream's header fields (all optional but the name) and the entry's data. */
export type TarEntry = Partial<tar.Header> & { name: string; data?: string | Buffer };
type EntryFields = Partial<tar.Header> & { name: string };

/** A tar from [{name, type, data, linkname, mode, uid, gid, mtime, devmajor, devminor}]; regular files by default. */
export async function makeTar(entries: Array<TarEntry>, defaults: Partial<tar.Header> = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    const { data, ...fields } = e;
    const header: EntryFields = { mode: 0o644, mtime: new Date(0), type: 'file', ...defaults, ...fields };
    const body = data ?? (header.type === 'file' ? '' : undefined);
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body === undefined) pack.entry(header, settle);
      else pack.entry(header, body, settle);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
