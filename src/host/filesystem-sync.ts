// Flushes written files to disk: a whole filesystem at once (syncfs(2)), one flush for every file a pull wrote
// instead of one per file, or named files only (fdatasync(2)), leaving alone what is written beside them.
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { SystemError, errorMessage } from '../errdefs';

/** The narrow interface the image store needs; HostFilesystemSync is the real one, test/fakes has the double. */
export interface FilesystemSync {
  /** Returns once everything written to the filesystem holding `path` is on disk. */
  syncFilesystem(path: string): Promise<void>;
  /** Returns once the data of each of `files` is on disk; a file no longer there is skipped (something replaced it). */
  syncFiles(files: readonly string[]): Promise<void>;
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

  /** fdatasync(2) through a read-only descriptor of each file: it flushes the file's dirty pages, whoever wrote them. */
  async syncFiles(files: readonly string[]): Promise<void> {
    // One at a time: each holds a thread of libuv's pool (4) for as long as the disk takes, and the pull's own
    // writes and gunzip need the others.
    for (const file of files) {
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new SystemError(`flushing ${file}: ${errorMessage(err)}`);
      }
      try {
        await handle.datasync();
      } catch (err) {
        throw new SystemError(`flushing ${file}: ${errorMessage(err)}`);
      } finally {
        await handle.close();
      }
    }
  }
}
