// `crun start` without the crun process: what it does for the containers Berth makes, done by berthd.
//
// After `crun create`, the container's init waits reading the state directory's exec.fifo. `crun start` opens the
// fifo for writing, unlinks it (which is how crun tells "running" from "created" afterwards) and writes one NUL byte,
// which lets the init exec the container's process. Besides that it only runs poststart hooks and waits on a
// notify socket, neither of which Berth's specs ever carry (engine/container-spec.ts). A process start of crun costs
// ~5-10 ms on the start path; this costs well under one.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Lets the created init of the container whose crun state directory is `stateDir` go on to exec its process.
 * false when there is no fifo, or nobody reads it (the init died): the caller runs `crun start`, whose error says why.
 */
export async function releaseCreatedInit(stateDir: string): Promise<boolean> {
  const fifo = path.join(stateDir, 'exec.fifo');
  let fd: number;
  try {
    // Non-blocking: with no reader, open fails at once (ENXIO) instead of waiting for one that will never come
    // (libuv opens close-on-exec: no process berthd spawns inherits the fifo).
    fd = await new Promise<number>((resolve, reject) => {
      fs.open(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK, (err, n) => (err ? reject(err) : resolve(n)));
    });
  } catch {
    return false;
  }
  try {
    if (!fs.fstatSync(fd).isFIFO()) return false;
    fs.unlinkSync(fifo);
    fs.writeSync(fd, Buffer.alloc(1));
    return true;
  } finally {
    fs.closeSync(fd);
  }
}
