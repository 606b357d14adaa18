// The bytes a directory tree holds, each hard-linked file once: a container's writable layer (SizeRw), a volume's size.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<number>();
  async function walk(d: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await fsp.lstat(p).catch(() => undefined);
        if (st && !seen.has(st.ino)) { seen.add(st.ino); total += st.size; }
      }
    }
  }
  await walk(dir);
  return total;
}
