// Flushes a whole filesystem to disk at once (syncfs(2)): one flush for every file a pull wrote, instead of one per file.
import { spawn } from 'node:child_process';
import { SystemError } from '../errdefs';

/** The narrow interface the image store needs; HostFilesystemSync is the real one, test/fakes has the double. */
export interface FilesystemSync {
  /** Returns once everything written to the filesystem holding `path` is on disk. */
  syncFilesystem(path: string): Promise<void>;
}

/**
 * syncfs(2) through coreutils' `sync --file-system` (Node has no binding): a layer's unpacked files are
 * written without an fsync each, and this one call makes all of them durable before the layer is committed.
 */
export class HostFilesystemSync implements FilesystemSync {
  syncFilesystem(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('sync', ['--file-system', '--', path], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 4096) stderr += d; });
      child.on('error', (e) => reject(new SystemError(`sync --file-system ${path}: ${e.message}`)));
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new SystemError(`sync --file-system ${path}: ${stderr.trim() || `exit status ${code}`}`));
      });
    });
  }
}
