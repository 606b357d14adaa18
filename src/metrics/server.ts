// The HTTP listener on metrics-addr: GET /metrics in Prometheus' text exposition format, nothing else.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { errorMessage, SystemError } from '../errdefs';
import { formatMetricsAddress, type MetricsAddress } from './address';

export interface MetricsServer {
  /** Where it listens, as "host:port" (the port the kernel gave when the address asked for 0). */
  address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(addr: MetricsAddress, registry: Registry, log: { info(m: string): void; error(m: string): void }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname !== '/metrics') return answer(res, 404, 'not found: metrics are served at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return answer(res, 405, 'method not allowed: GET /metrics\n');
    }
    registry.metrics().then((text) => {
      res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    }, (err: unknown) => {
      log.error(`metrics: a scrape failed: ${errorMessage(err)}`);
      answer(res, 500, `scrape failed: ${errorMessage(err)}\n`);
    });
  });
  // Prometheus keeps its connection between scrapes; a scrape of many containers must not hit a header timeout.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new SystemError(`metrics-addr ${formatMetricsAddress(addr)}: cannot listen: ${err.code ?? err.message}`)));
    server.listen(addr.port, addr.host, () => resolve());
  });
  server.on('error', (err) => log.error(`metrics server: ${err.message}`));
  const bound = server.address() as AddressInfo;
  const address = formatMetricsAddress({ host: addr.host, port: bound.port });
  log.info(`metrics: serving GET http://${address}/metrics`);
  if (!addr.loopback) {
    log.info(`metrics: warning: ${address} is not a loopback address, as metrics-addr says: whoever reaches it reads every container's name, image and figures, without authentication`);
  }
  return {
    address,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

function answer(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
