// Whether a directory is on a filesystem kept in memory (tmpfs, ramfs), where a small write or unlink is a copy in
// memory and never waits for a disk or its journal: there berthd may use the synchronous calls (decision 29). /run is
// a tmpfs on a standard Debian host; on a host whose /run is on disk the asynchronous calls stay.
import * as fs from 'node:fs';

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

const known = new Map<string, boolean>();

/** Asked once per directory (the exec root and its fixed subdirectories); a missing directory asks its parent. */
export function onMemoryFilesystem(dir: string): boolean {
  let answer = known.get(dir);
  if (answer === undefined) {
    answer = probe(dir);
    known.set(dir, answer);
  }
  return answer;
}

function probe(dir: string): boolean {
  for (let d = dir; ; d = d.slice(0, d.lastIndexOf('/')) || '/') {
    try {
      const type = fs.statfsSync(d).type;
      return type === TMPFS_MAGIC || type === RAMFS_MAGIC;
    } catch {
      if (d === '/') return false;
    }
  }
}
