// Writes to stdout a rootfs tar for running Berth's registry as a container: this Node binary and its shared libraries, Berth's dist/ and runtime node_modules.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';

const ROOT = path.resolve(__dirname, '../..');
const MTIME = new Date(0);
/** Build-time only packages: not needed to serve. */
const DEV_ONLY = new Set(['typescript', '@typescript', '@types', 's3rver']);

type Entry = { name: string; type: 'directory' | 'file' | 'symlink'; mode: number; data?: string; path?: string; linkname?: string };

/** The shared libraries `ldd` names for a binary (absolute paths), the dynamic loader included. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]!);
  }
  return [...libs].sort();
}

function walk(dir: string, rel: string, out: Entry[], skip: (name: string, relPath: string) => boolean): void {
  const names = fs.readdirSync(dir).sort();
  for (const n of names) {
    const abs = path.join(dir, n);
    const r = `${rel}/${n}`;
    if (skip(n, r)) continue;
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) {
      out.push({ name: `${r}/`, type: 'directory', mode: 0o755 });
      walk(abs, r, out, skip);
    } else if (st.isSymbolicLink()) {
      out.push({ name: r, type: 'symlink', mode: 0o777, linkname: fs.readlinkSync(abs) });
    } else if (st.isFile()) {
      out.push({ name: r, type: 'file', mode: st.mode & 0o111 ? 0o755 : 0o644, path: abs });
    }
  }
}

function entries(): Entry[] {
  const node = fs.realpathSync(process.execPath);
  const out: Entry[] = [];
  const dirs = new Set<string>();
  const ensureDir = (d: string) => {
    const parts = d.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!dirs.has(p)) { dirs.add(p); out.push({ name: `${p}/`, type: 'directory', mode: p === 'tmp' ? 0o1777 : 0o755 }); }
    }
  };
  for (const d of ['etc', 'tmp', 'usr/local/bin', 'var/lib/registry', 'opt/berth']) ensureDir(d);
  out.push({ name: 'etc/passwd', type: 'file', mode: 0o644, data: 'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' });
  out.push({ name: 'etc/group', type: 'file', mode: 0o644, data: 'root:x:0:\nnogroup:x:65534:\n' });
  out.push({ name: 'usr/local/bin/node', type: 'file', mode: 0o755, path: node });
  for (const lib of sharedLibraries(node)) {
    const real = fs.realpathSync(lib);
    ensureDir(path.dirname(lib).slice(1));
    out.push({ name: lib.slice(1), type: 'file', mode: 0o755, path: real });
  }
  out.push({ name: 'opt/berth/package.json', type: 'file', mode: 0o644, path: path.join(ROOT, 'package.json') });
  for (const sub of ['dist', 'node_modules']) {
    out.push({ name: `opt/berth/${sub}/`, type: 'directory', mode: 0o755 });
    walk(path.join(ROOT, sub), `opt/berth/${sub}`, out, (n, r) => sub === 'node_modules' && r.split('/').length === 4 && DEV_ONLY.has(n));
  }
  return out;
}

async function main(): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, process.stdout);
  for (const e of entries()) {
    const header = { name: e.name, mode: e.mode, mtime: MTIME, uid: 0, gid: 0 };
    if (e.type === 'directory') pack.entry({ ...header, type: 'directory' });
    else if (e.type === 'symlink') pack.entry({ ...header, type: 'symlink', linkname: e.linkname });
    else {
      const data = e.path ? fs.readFileSync(e.path) : Buffer.from(e.data ?? '');
      await new Promise<void>((resolve, reject) => pack.entry({ ...header, size: data.length }, data, (err) => (err ? reject(err) : resolve())));
    }
  }
  pack.finalize();
  await done;
}

main().catch((err: Error) => {
  process.stderr.write(`registry-rootfs: ${err.message}\n`);
  process.exit(1);
});
