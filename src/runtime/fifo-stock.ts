// Real pipes for the stdio of processes berthd runs as its own children: named pipes (FIFOs) made ahead by mkfifo.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { SystemError } from '../errdefs';

/**
 * Node can make neither a pipe nor a FIFO, and a child given spawn's 'pipe' stdio gets a socket, on which the
 * process's open('/dev/stdout') fails with ENXIO (a script's `echo >/dev/stderr`). A FIFO opened by name is a real
 * pipe, and once open its name can go: berthd keeps a stock of names made ahead, off the exec's path, and makes a
 * batch more with one mkfifo run when it runs low.
 */
export class FifoStock {
  private readonly ready: string[] = [];
  private making: Promise<void> | undefined;
  private made = 0;
  private cleared = false;

  constructor(private readonly dir: string, private readonly batch = 32) {}

  /** Makes the first batch now (at daemon start), so that no exec waits for it. */
  warm(): void {
    this.refill().catch(() => undefined);
  }

  /** `n` unused FIFO names; each is the caller's to open (outputPipe, inputPipe), which removes it. */
  async take(n: number): Promise<string[]> {
    while (this.ready.length < n) await this.refill();
    const taken = this.ready.splice(0, n);
    if (this.ready.length < this.batch / 2) this.refill().catch(() => undefined);
    return taken;
  }

  private refill(): Promise<void> {
    this.making ??= this.make().finally(() => { this.making = undefined; });
    return this.making;
  }

  private async make(): Promise<void> {
    // Names a previous berthd made and never used are dropped once, before the first batch.
    if (!this.cleared) await fsp.rm(this.dir, { recursive: true, force: true });
    this.cleared = true;
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = Array.from({ length: this.batch }, () => path.join(this.dir, String(this.made++)));
    await new Promise<void>((resolve, reject) => {
      const child = spawn('mkfifo', ['-m', '600', ...names], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('error', (e) => reject(new SystemError(`cannot run mkfifo: ${e.message}`)));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new SystemError(`mkfifo: ${stderr.trim() || `exit ${code}`}`))));
    });
    this.ready.push(...names);
  }
}

/**
 * A pipe the child writes (its stdout or stderr) and berthd reads. Berthd's read end opens first, non-blocking (a
 * FIFO's read end then opens at once); the child's write end, opened next, finds that reader and opens at once
 * too, in the blocking mode a process expects of its stdout. Neither open waits, so they are synchronous.
 */
export function outputPipe(fifo: string): { reader: net.Socket; childEnd: number } {
  const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fs.constants;
  const readFd = fs.openSync(fifo, O_RDONLY | O_NONBLOCK);
  let childEnd: number;
  try {
    childEnd = fs.openSync(fifo, O_WRONLY);
  } catch (err) {
    fs.closeSync(readFd);
    throw err;
  }
  forget(fifo);
  return { reader: new net.Socket({ fd: readFd, readable: true, writable: false }), childEnd };
}

/**
 * A pipe berthd writes and the child reads (its stdin). The child's read end must be blocking and opens at once
 * only while a writer exists: a read-write descriptor stands in until berthd's own write end is open, and is closed
 * then, so that closing berthd's end is the child's end of input.
 */
export function inputPipe(fifo: string): { writer: net.Socket; childEnd: number } {
  const { O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK } = fs.constants;
  const standIn = fs.openSync(fifo, O_RDWR);
  try {
    const childEnd = fs.openSync(fifo, O_RDONLY);
    const writeFd = fs.openSync(fifo, O_WRONLY | O_NONBLOCK);
    forget(fifo);
    return { writer: new net.Socket({ fd: writeFd, readable: false, writable: true }), childEnd };
  } finally {
    fs.closeSync(standIn);
  }
}

function forget(fifo: string): void {
  fsp.rm(fifo, { force: true }).catch(() => undefined);
}
