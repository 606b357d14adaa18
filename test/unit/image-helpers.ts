// Shared by the image tests: builds tar archives in memory with tar-stream, and a LocalImages on a temporary root. (No tests here.)
// JavaScript integration tests reach the compiled form: require('../../dist-test/test/unit/image-helpers').
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { LocalImages } from '../../src/image/local-images';
import { FakeFilesystemSync } from '../fakes/filesystem-sync';
import { FakeSpecialFiles } from '../fakes/special-files';

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

/**
 * A LocalImages on a fresh temporary root with fake special files and a recording sync, removed afterwards; `fn`
 * gets it, its image directory and the sync.
 */
export async function withLocalImages(prefix: string, fn: (images: LocalImages, imageRoot: string, sync: FakeFilesystemSync) => Promise<void>): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const sync = new FakeFilesystemSync();
    const images = new LocalImages({ root, special: new FakeSpecialFiles(), sync });
    await images.init();
    await fn(images, path.join(root, 'image'), sync);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
