// Small tars in memory for client tests: files to a tar stream (a build context, a putArchive body) and back.
import * as tarStream from 'tar-stream';

/** A tar of the given files, as a readable stream (what dockerode's buildImage and putArchive take). */
export function tarOf(files: Record<string, string | Buffer>): NodeJS.ReadableStream {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  // A streamx Readable: clients pipe it as they pipe Node's streams, which its types do not say.
  return pack as unknown as NodeJS.ReadableStream;
}

/** Reads a stream to its end into one Buffer. */
export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // Streams give Buffers, or strings once an encoding is set.
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** The entries of a tar buffer: name → content ('' for directories). */
export async function untar(buf: Buffer): Promise<Record<string, string>> {
  const extract = tarStream.extract();
  const files: Record<string, string> = {};
  const done = (async () => {
    for await (const entry of extract) files[entry.header.name] = (await readAll(entry)).toString();
  })();
  extract.end(buf);
  await done;
  return files;
}
