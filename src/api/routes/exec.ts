// Exec routes of the Docker Engine API: create, start (hijacked), resize, inspect.
import type { Duplex } from 'node:stream';
import type { ExecCreateBody, ExecStartBody } from '../../wire/docker';
import type { ExecService } from '../../engine/exec';
import type { LogEntry } from '../../engine/logs';
import { InvalidParameterError } from '../../engine/errors';
import { queryInt, type Router } from '../router';
import { frame } from '../streams';
import { outputContentType } from '../api-versions';
import { detachKeysOf, filterDetachKeys } from '../detach-keys';

export function registerExecRoutes(router: Router, execs: ExecService): void {
  router.post('/containers/{id}/exec', async (ctx) => {
    const body = await ctx.json<ExecCreateBody>();
    if (body?.DetachKeys) detachKeysOf(body.DetachKeys);
    const out = execs.create(ctx.params.id!, body);
    ctx.res!.statusCode = 201;
    return out;
  });

  router.get('/exec/{id}/json', (ctx) => execs.inspect(ctx.params.id!));

  router.post('/exec/{id}/resize', async (ctx) => {
    const h = queryInt(ctx.query, 'h');
    const w = queryInt(ctx.query, 'w');
    if (h === undefined || w === undefined) throw new InvalidParameterError('invalid resize dimensions: h and w are required');
    await execs.resize(ctx.params.id!, h, w);
  });

  router.post('/exec/{id}/start', async (ctx) => {
    const body = (await ctx.json<ExecStartBody>()) ?? {};
    const session = execs.get(ctx.params.id!);
    if (body.Detach) {
      await execs.start(session.id, { detach: true, consoleSize: body.ConsoleSize });
      return undefined;
    }
    const tty = session.tty;
    const keys = detachKeysOf(session.detachKeys);
    const abort = new AbortController();
    // Refusals (already running, container stopped) are plain HTTP errors; a process that cannot start is
    // told on the stream, as dockerd does, and its exit code is in the inspect.
    const stream = await execs.start(session.id, { detach: false, consoleSize: body.ConsoleSize, signal: abort.signal });
    const sock: Duplex = ctx.hijack(outputContentType(tty, ctx.apiVersion));
    sock.on('error', () => abort.abort());
    sock.on('close', () => abort.abort());
    const send = (e: LogEntry) => {
      if ((e.stream === 'stdout' && !session.attachStdout) || (e.stream === 'stderr' && !session.attachStderr)) return;
      if (!sock.destroyed) sock.write(tty ? e.data : frame(e.stream === 'stdout' ? 1 : 2, e.data));
    };
    if (stream.startError) {
      const msg = Buffer.from(`${stream.startError}\r\n`);
      if (!sock.destroyed) sock.write(tty ? msg : frame(1, msg));
      sock.end();
      return;
    }
    let detached = false;
    if (session.attachStdin) {
      const input = filterDetachKeys(sock, keys, () => {
        detached = true;
        abort.abort();
        sock.end();
      });
      void stream.attachStdin(input);
    } else sock.resume();
    for await (const e of stream.output) {
      if (detached || sock.destroyed) break;
      send(e);
    }
    if (!sock.destroyed) sock.end();
  });
}
