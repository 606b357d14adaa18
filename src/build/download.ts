// ADD <url>: the file fetched over HTTP(S) into a private directory, named as Docker names it, with Docker's mode
// (0600) and mtime (Last-Modified, else the epoch), and its sha256 for ADD --checksum.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, errorMessage } from '../errdefs';
import type { JsonMessage } from '../wire/docker';

export interface Downloaded {
  file: string;
  /** The file name at a directory destination. */
  name: string;
  digest: string;
}

const UNNAMED = '__unnamed__';

/** The name Docker gives a download: the URL path's last element, else Content-Disposition's filename. */
export function downloadName(url: URL, contentDisposition: string | null): string {
  const p = decodeURIComponent(url.pathname);
  if (p && !p.endsWith('/')) {
    const base = path.posix.basename(p);
    if (base) return base;
  }
  const m = contentDisposition ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(contentDisposition) : null;
  if (m && !m[1]!.endsWith('/')) return path.posix.basename(m[1]!);
  return '';
}

export async function download(rawUrl: string, dir: string, destIsDir: boolean, progress: { progress(msg: JsonMessage): void; stream(text: string): void }, signal: AbortSignal): Promise<Downloaded> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new InvalidParameterError(`invalid URL ${rawUrl}`);
  }
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    throw new InvalidParameterError(`failed to GET ${rawUrl}: ${errorMessage((err as { cause?: unknown }).cause ?? err)}`);
  }
  if (res.status >= 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new InvalidParameterError(`failed to GET ${rawUrl} with status ${res.status} ${res.statusText}`);
  }
  let name = downloadName(url, res.headers.get('content-disposition'));
  if (!name) {
    if (destIsDir) throw new InvalidParameterError(`cannot determine filename for source ${rawUrl}`);
    name = UNNAMED;
  }
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, name);
  const hash = createHash('sha256');
  const total = Number(res.headers.get('content-length') ?? 0);
  let current = 0;
  let lastReport = 0;
  const body = res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) : Readable.from([]);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    current += chunk.length;
    const now = Date.now();
    if (now - lastReport > 200) {
      lastReport = now;
      progress.progress({ status: 'Downloading', progressDetail: { current, total } });
    }
  });
  await pipeline(body, fs.createWriteStream(file, { mode: 0o600 }));
  progress.progress({ status: 'Downloading', progressDetail: { current, total: total || current } });
  progress.stream('\n');
  const lastModified = Date.parse(res.headers.get('last-modified') ?? '');
  const mtime = Number.isNaN(lastModified) || lastModified < 0 ? new Date(0) : new Date(lastModified);
  await fsp.chmod(file, 0o600);
  await fsp.utimes(file, mtime, mtime);
  return { file, name, digest: `sha256:${hash.digest('hex')}` };
}
