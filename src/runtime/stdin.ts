// Feeds a stream into a container's stdin through conmon's attach socket (a SOCK_SEQPACKET socket, which Node
// cannot open itself; Debian's socat bridges it).
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export function connectStdin(attachSocketPath: string, input: Readable): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('socat', ['-u', 'STDIN', `UNIX-CONNECT:${attachSocketPath},type=5`], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
    child.stdin.on('error', () => undefined);
    input.on('error', () => child.stdin.end());
    input.pipe(child.stdin);
  });
}
