// Exec routes of the Docker Engine API: create, start (hijacked), resize, inspect.
import type { ExecCreateBody, ExecStartBody } from '../../wire/docker';
import type { ExecService } from '../../engine/exec';
import { errorMessage, InvalidParameterError } from '../../errdefs';
import { queryInt, type Router } from '../router';
import { frame } from '../streams';
import { execCreate, execStart } from '../shapes/exec';
import { olderThan, outputContentType } from '../api-versions';
import { detachKeysOf, filterDetachKeys } from '../detach-keys';

export function registerExecRoutes(router: Router, execs: ExecService): void {
  router.post('/containers/{id}/exec', async (ctx) => {
    const body = await ctx.body(execCreate) as ExecCreateBody | null | undefined;
    if (body?.DetachKeys) detachKeysOf(body.DetachKeys);
    const out = execs.create(ctx.params.id!, body ?? undefined);
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
    const body = (await ctx.body(execStart) ?? {}) as ExecStartBody;
    // As dockerd: the start's own Tty, not the session's, says whether output is multiplexed (docker-py starts a
    // TTY session without it and reads frames), and a console size needs it (and API 1.42).
    const tty = !!body.Tty;
    const consoleSize = tty && !olderThan(ctx.apiVersion, '1.42') ? body.ConsoleSize : undefined;
    const { s: session } = execs.startable(ctx.params.id!);
    if (body.Detach) {
      await execs.start(session.id, { detach: true, consoleSize });
      return undefined;
    }
    const keys = detachKeysOf(session.detachKeys);
    const abort = new AbortController();
    // Refusals (already running, container stopped) were plain HTTP errors above. The process starts once the
    // answer's head is out, as dockerd's does: a client that reads the head through a buffer (docker-py) must not
    // find the first output in it.
    const { socket: sock, input } = ctx.hijack(outputContentType(tty, ctx.apiVersion));
    sock.on('error', () => abort.abort());
    sock.on('close', () => abort.abort());
    const write = (stream: 1 | 2, data: Buffer) => {
      if (!sock.destroyed) sock.write(tty ? data : frame(stream, data));
    };
    let stream: Awaited<ReturnType<ExecService['start']>>;
    try {
      stream = await execs.start(session.id, { detach: false, consoleSize, signal: abort.signal });
    } catch (err) {
      stream = { startError: errorMessage(err) } as typeof stream;
    }
    // A process that cannot start is told on the stream (as stdout), as dockerd does; its exit code is in the inspect.
    if (stream.startError) {
      input.resume();
      write(1, Buffer.from(`${stream.startError}\r\n`));
      sock.end();
      return;
    }
    let detached = false;
    if (session.attachStdin) {
      const filtered = filterDetachKeys(input, keys, () => {
        detached = true;
        abort.abort();
        sock.end();
      });
      void stream.attachStdin(filtered);
    } else input.resume();
    for await (const e of stream.output) {
      if (detached || sock.destroyed) break;
      if ((e.stream === 'stdout' && !session.attachStdout) || (e.stream === 'stderr' && !session.attachStderr)) continue;
      write(e.stream === 'stdout' ? 1 : 2, e.data);
    }
    if (!sock.destroyed) sock.end();
  });
}
