// Feeds a stream into a container's stdin through conmon's attach socket (a SOCK_SEQPACKET socket, which Node
// cannot open itself; Debian's socat bridges it).
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * The socket's full path can exceed the 108 bytes a unix socket address holds (conmon's --full-attach puts it in
 * the bundle), so socat runs in its directory and connects by the relative name.
 */
export async function connectStdin(attachSocketPath: string, input: Readable): Promise<void> {
  const dir = path.dirname(attachSocketPath);
  const name = path.basename(attachSocketPath);
  for (let i = 0; i < 100; i++) {
    if (await fsp.stat(attachSocketPath).then((s) => s.isSocket(), () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return new Promise((resolve) => {
    // Bidirectional on purpose, with what conmon sends back thrown away: conmon 2.1 copies the container's output
    // to every attach connection, and a failed write there (to a `socat -u`, which never reads) marks the
    // connection unwritable, after which conmon's EOF handling frees it before deciding to close the container's
    // stdin, so `docker run -i` sometimes never saw its EOF. -t: keep reading after our EOF until conmon is done.
    const child = spawn('socat', ['-t', '30', '-', `UNIX-CONNECT:${name},type=5`], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
    child.stdin.on('error', () => undefined);
    input.on('error', () => child.stdin.end());
    // A client that goes away without half-closing (detach, dropped connection) ends the bridge too.
    input.on('close', () => { if (!child.stdin.writableEnded) child.stdin.end(); });
    input.pipe(child.stdin);
  });
}
