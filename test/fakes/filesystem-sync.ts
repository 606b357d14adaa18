// A FilesystemSync for unit tests (the real one is HostFilesystemSync in src/host/filesystem-sync.ts): records the calls.
import type { FilesystemSync } from '../../src/host/filesystem-sync';

export class FakeFilesystemSync implements FilesystemSync {
  readonly synced: string[] = [];
  readonly syncedFiles: string[][] = [];
  async syncFilesystem(path: string): Promise<void> {
    this.synced.push(path);
  }
  async syncFiles(files: readonly string[]): Promise<void> {
    this.syncedFiles.push([...files]);
  }
}
