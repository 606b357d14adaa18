// Decompresses bzip2, xz and zstd streams with Debian's tools (Node has only gzip): build contexts and ADD archives.
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';

const TOOLS = { bzip2: ['bzip2', '-dc'], xz: ['xz', '-dc'], zstd: ['zstd', '-dcq'] } as const;

export type ToolCompression = keyof typeof TOOLS;

/** The decompressed stream; a tool's failure (corrupt input) becomes an error on it, with the tool's message. */
export function decompressWithTool(kind: ToolCompression, input: Readable): Readable {
  const [cmd, ...args] = TOOLS[kind];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 4096) stderr += d; });
  input.on('error', (err) => { child.kill('SIGKILL'); out.destroy(err); });
  child.stdin.on('error', () => { /* the tool stopped reading: its exit status says why */ });
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(err));
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new Error(`${kind} decompression failed: ${stderr.trim() || `exit status ${code}`}`));
  });
  out.on('close', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return out;
}
