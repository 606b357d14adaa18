// Advisory whole-file locks (flock(2)) shared with other programs that lock the same file, such as netavark.
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { SystemError } from '../errdefs';

/**
 * Runs `fn` holding an exclusive flock(2) on `lockPath` (made if missing). Node has no flock, so util-linux's
 * `flock` takes it on a descriptor berthd opened and passes down: the lock belongs to that open file, so it stays
 * held after `flock` exits and goes when berthd closes the descriptor (or dies).
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const handle = await fsp.open(lockPath, 'a');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('flock', ['-x', '3'], { stdio: ['ignore', 'ignore', 'pipe', handle.fd] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
      child.once('error', (e) => reject(new SystemError(`cannot lock ${lockPath}: ${e.message}`)));
      child.once('close', (code) => (code === 0 ? resolve() : reject(new SystemError(`cannot lock ${lockPath}: ${stderr.trim() || `flock exit code ${code}`}`))));
    });
    return await fn();
  } finally {
    await handle.close();
  }
}
