// Linux effects Node cannot perform itself: device nodes (mknod) and extended attributes (setfattr/getfattr).
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { SystemError } from '../errdefs';

export interface DeviceNode {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  /** Permission bits (0o7777). */
  mode: number;
}

export interface Xattr {
  path: string;
  name: string;
  value: Buffer;
}

/** The narrow interface the image code needs; HostSpecialFiles is the real one, test/fakes/special-files.ts the test double. */
export interface SpecialFiles {
  /** Creates the nodes (replacing nothing: the paths must not exist). */
  mknod(nodes: DeviceNode[]): Promise<void>;
  /** Sets extended attributes on the paths (without following a final symlink). */
  setXattrs(attrs: Xattr[]): Promise<void>;
  /** All attributes whose name matches `namePattern` (a regex) on `root` and below, by absolute path. */
  listXattrs(root: string, namePattern: string): Promise<Map<string, Map<string, Buffer>>>;
}

const MKNOD_BATCH = 256;

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new SystemError(`${cmd}: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('latin1'));
      else reject(new SystemError(`${cmd} failed (exit ${code}): ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.on('error', () => { /* reported through the exit status */ });
    child.stdin.end(input ?? '');
  });
}

/** getfattr/setfattr escape names with \ooo octal for control characters, '\\' and '='; this undoes it. */
function unescapeName(s: string): string {
  return Buffer.from(s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), 'latin1').toString('latin1');
}

function escapeName(s: string): string {
  // Paths are handed over as latin1 bytes of their UTF-8 form.
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) {
    if (b < 0x21 || b === 0x5c || b === 0x3d || b >= 0x7f) out += '\\' + b.toString(8).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out;
}

export class HostSpecialFiles implements SpecialFiles {
  async mknod(nodes: DeviceNode[]): Promise<void> {
    // One shell per batch instead of one mknod process per node: layers can hold thousands of whiteouts.
    for (let i = 0; i < nodes.length; i += MKNOD_BATCH) {
      const args: string[] = [];
      for (const n of nodes.slice(i, i + MKNOD_BATCH)) {
        args.push(n.path, (n.mode & 0o7777).toString(8), n.type, String(n.major), String(n.minor));
      }
      const script = 'while [ $# -gt 0 ]; do if [ "$3" = p ]; then mknod -m "$2" -- "$1" p; else mknod -m "$2" -- "$1" "$3" "$4" "$5"; fi || exit 1; shift 5; done';
      await run('sh', ['-c', script, 'sh', ...args]);
    }
  }

  async setXattrs(attrs: Xattr[]): Promise<void> {
    if (!attrs.length) return;
    // setfattr --restore takes a getfattr dump: all attributes in one process. It does not follow symlinks.
    let dump = '';
    for (const a of attrs) dump += `# file: ${escapeName(a.path)}\n${a.name}=0s${a.value.toString('base64')}\n\n`;
    await run('setfattr', ['-h', '--restore=-'], dump);
  }

  async listXattrs(root: string, namePattern: string): Promise<Map<string, Map<string, Buffer>>> {
    const result = new Map<string, Map<string, Buffer>>();
    await fsp.access(root);
    let out: string;
    try {
      out = await run('getfattr', ['-R', '-P', '--absolute-names', '-d', '-e', 'base64', '-m', namePattern, root]);
    } catch (err) {
      // getfattr exits 1 when some file has no matching attribute but still prints the others.
      if (!(err instanceof SystemError) || !/exit 1\)/.test(err.message)) throw err;
      out = await run('sh', ['-c', 'getfattr -R -P --absolute-names -d -e base64 -m "$1" "$2" 2>/dev/null; true', 'sh', namePattern, root]);
    }
    let current: Map<string, Buffer> | undefined;
    for (const line of out.split('\n')) {
      if (line.startsWith('# file: ')) {
        const p = Buffer.from(unescapeName(line.slice(8)), 'latin1').toString('utf8');
        current = new Map();
        result.set(p, current);
      } else if (current && line.includes('=')) {
        const eq = line.indexOf('=');
        const name = line.slice(0, eq);
        const raw = line.slice(eq + 1);
        current.set(name, decodeValue(raw));
      }
    }
    return result;
  }
}

function decodeValue(raw: string): Buffer {
  if (raw.startsWith('0s')) return Buffer.from(raw.slice(2), 'base64');
  if (raw.startsWith('0x')) return Buffer.from(raw.slice(2), 'hex');
  if (raw.startsWith('"') && raw.endsWith('"')) return Buffer.from(unescapeName(raw.slice(1, -1)), 'latin1');
  return Buffer.from(raw, 'latin1');
}
