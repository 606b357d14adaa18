// GET /services/{id}/logs and /tasks/{id}/logs: the query read as dockerd reads it, and the backend's stream
// written out (multiplexed unless the service has a TTY); an error mid-stream is written into it.
import { InvalidParameterError, errorMessage } from '../../errdefs';
import type { ClusterLogStream, LogOptions } from '../../cluster/backend';
import { outputContentType } from '../api-versions';
import { queryBool, type RequestContext } from '../router';

export function logOptions(ctx: RequestContext): LogOptions {
  const q = ctx.query;
  const stdout = queryBool(q, 'stdout');
  const stderr = queryBool(q, 'stderr');
  if (!stdout && !stderr) throw new InvalidParameterError("must specify at least one of 'stdout' or 'stderr'");
  const tailRaw = q.get('tail') ?? 'all';
  let tail: number | 'all' = 'all';
  if (tailRaw !== '' && tailRaw !== 'all') {
    if (!/^-?\d+$/.test(tailRaw)) throw new InvalidParameterError('tail value must be a positive integer or "all"');
    tail = Number(tailRaw);
    if (tail < 0) throw new InvalidParameterError('negative tail values not supported');
  }
  const sinceRaw = q.get('since') ?? '';
  let since = 0;
  if (sinceRaw) {
    if (!/^\d+(\.\d+)?$/.test(sinceRaw)) throw new InvalidParameterError(`invalid value for since: ${sinceRaw}`);
    since = Number(sinceRaw);
  }
  return { follow: queryBool(q, 'follow'), stdout, stderr, timestamps: queryBool(q, 'timestamps'), details: queryBool(q, 'details'), since, tail };
}

export async function writeClusterLogs(ctx: RequestContext, logs: ClusterLogStream): Promise<void> {
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': outputContentType(logs.tty, ctx.apiVersion) });
  await new Promise<void>((resolve) => {
    logs.stream.on('data', (chunk: Buffer) => { if (!res.destroyed) res.write(chunk); });
    logs.stream.on('end', () => { res.end(); resolve(); });
    logs.stream.on('error', (err) => { res.end(`Error grabbing logs: ${errorMessage(err)}\n`); resolve(); });
    res.on('close', () => { logs.stream.destroy(); resolve(); });
  });
}
