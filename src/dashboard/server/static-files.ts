// The page's files: GET / is index.html, GET /assets/<file> a file under assets/, from the directory the page's
// build writes (dist/dashboard); nothing outside assets/ is reachable, whatever the path or a symlink says.
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Refusal } from './gate';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where the page's built files are: dist/dashboard, beside this module's directory (dist/dashboard/server). */
export const DEFAULT_WEB_ROOT = path.join(__dirname, '..');

/**
 * The file a request path names under `root`, or why there is none. Decoded once; "..", ".", empty segments,
 * backslashes and NUL are refused before the file system is asked, and the real path (symlinks followed) must
 * still be under root/assets.
 */
export function resolveStatic(root: string, pathname: string): { file: string } | Refusal {
  if (pathname === '/') return { file: path.join(root, 'index.html') };
  if (!pathname.startsWith('/assets/')) return { status: 404, message: `not found: ${pathname}\n` };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname.slice('/assets/'.length));
  } catch {
    return { status: 400, message: 'malformed path encoding\n' };
  }
  const segments = decoded.split('/');
  if (decoded.includes('\\') || decoded.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    return { status: 404, message: 'not found: the path leaves the assets directory or is not a file name\n' };
  }
  const assets = path.join(root, 'assets');
  let real: string;
  let realAssets: string;
  try {
    real = fs.realpathSync(path.join(assets, ...segments));
    realAssets = fs.realpathSync(assets);
  } catch {
    return { status: 404, message: `not found: ${pathname}\n` };
  }
  if (!real.startsWith(realAssets + path.sep)) return { status: 404, message: 'not found: the path leaves the assets directory\n' };
  return { file: real };
}

/** Answers GET/HEAD of a static path (the caller has checked the method and the session). */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string, refuse: (r: Refusal) => void): Promise<void> {
  const found = resolveStatic(root, pathname);
  if ('status' in found) return refuse(found);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(found.file);
  } catch {
    return refuse({ status: 404, message: pathname === '/' ? `the page is not built: ${found.file} is missing (make build writes it)\n` : `not found: ${pathname}\n` });
  }
  if (!stat.isFile()) return refuse({ status: 404, message: `not found: ${pathname}\n` });
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': stat.size,
    // The page is rebuilt with the program: a restarted dashboard must not be served from an old cache.
    'Cache-Control': res.getHeader('Cache-Control') ?? 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  await pipeline(fs.createReadStream(found.file), res).catch(() => res.destroy());
}
