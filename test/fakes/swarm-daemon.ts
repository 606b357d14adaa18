// A fake Engine API daemon on a unix socket for the `berth` swarm verbs' unit tests: answers from a route
// table ("GET /nodes" → JSON, or a Buffer sent as a raw stream) and records every request (method, path, query, JSON body).
import * as http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Cli, CliStreams } from '../../src/cli/command';

export interface Logged { method: string; path: string; query: Record<string, string>; body: any }
export type Route = (req: Logged) => { status?: number; body?: unknown } | unknown;

export async function swarmDaemon(routes: Record<string, Route>) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-swarm-cli-'));
  const sock = join(dir, 'd.sock');
  const log: Logged[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const path = url.pathname.replace(/^\/v1\.\d+/, '');
      const entry: Logged = { method: req.method!, path, query: Object.fromEntries(url.searchParams), body: raw ? JSON.parse(raw) : undefined };
      log.push(entry);
      const route = routes[`${req.method} ${path}`];
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(body === undefined ? '' : JSON.stringify(body));
      };
      if (!route) { send(404, { message: `no route ${req.method} ${path}` }); return; }
      const r = route(entry) as { status?: number; body?: unknown } | undefined;
      if (Buffer.isBuffer(r)) { res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' }); res.end(r); return; }
      if (r && typeof r === 'object' && 'status' in r) send(r.status ?? 200, r.body);
      else send(200, r);
    });
  });
  await new Promise<void>((r) => server.listen(sock, () => r()));
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => { out += c; });
  stderr.on('data', (c) => { err += c; });
  const cli = new Cli({ stdin: new PassThrough(), stdout, stderr } as unknown as CliStreams, { HOME: dir });
  return {
    log, cli, out: () => out, err: () => err,
    argv: (...args: string[]) => ['node', 'berth', '-H', `unix://${sock}`, ...args],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
