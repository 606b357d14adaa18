// An in-memory SpecialFiles for unit tests (the real one is HostSpecialFiles in src/host/special-files.ts).
import * as fsp from 'node:fs/promises';
import { DeviceNode, SpecialFiles, Xattr } from '../../src/host/special-files';

/**
 * A test double: device nodes become empty regular files and are remembered; attributes live in memory.
 */
export class FakeSpecialFiles implements SpecialFiles {
  readonly nodes = new Map<string, DeviceNode>();
  readonly xattrs = new Map<string, Map<string, Buffer>>();

  async mknod(nodes: DeviceNode[]): Promise<void> {
    for (const n of nodes) {
      await fsp.writeFile(n.path, '', { flag: 'wx' });
      this.nodes.set(n.path, n);
    }
  }

  async setXattrs(attrs: Xattr[]): Promise<void> {
    for (const a of attrs) {
      let m = this.xattrs.get(a.path);
      if (!m) this.xattrs.set(a.path, (m = new Map()));
      m.set(a.name, a.value);
    }
  }

  async listXattrs(root: string, namePattern: string): Promise<Map<string, Map<string, Buffer>>> {
    const re = new RegExp(namePattern);
    const out = new Map<string, Map<string, Buffer>>();
    for (const [p, attrs] of this.xattrs) {
      if (p !== root && !p.startsWith(root + '/')) continue;
      const hit = new Map([...attrs].filter(([n]) => re.test(n)));
      if (hit.size) out.set(p, hit);
    }
    return out;
  }
}
