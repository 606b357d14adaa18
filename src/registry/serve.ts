// Assembles a registry from its options: storage driver, auth, TLS; `berth registry serve` and the tests start it through here.
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessPolicy, BasicAuth, Htpasswd, TokenAuth, loadOrCreateSigningKey, type Authorizer } from './auth';
import { garbageCollect, type GcOptions, type GcReport } from './gc';
import { createRegistryServer } from './server';
import type { StorageDriver } from './storage-driver';
import { FilesystemDriver } from './storage-fs';
import { RegistryStore } from './store';

export interface StorageOptions {
  storage?: 'fs' | 's3';
  /** Filesystem root (fs), required for fs. */
  root?: string;
  s3Endpoint?: string;
  s3Bucket?: string;
  s3Region?: string;
  s3Prefix?: string;
  s3AccessKey?: string;
  s3SecretKey?: string;
}

export interface ServeOptions extends StorageOptions {
  /** host:port; port 0 picks a free one. */
  addr: string;
  htpasswd?: string;
  /** An access policy file (JSON rules); without it signed-in users may do everything. */
  acl?: string;
  /** Bearer tokens signed with this PEM key (created when absent); needs htpasswd for the users. */
  tokenKey?: string;
  tokenRealm?: string;
  tokenService?: string;
  tokenIssuer?: string;
  tlsCert?: string;
  tlsKey?: string;
  delete?: boolean;
  log?: (line: string) => void;
}

export interface RunningRegistry {
  server: Server;
  /** "http://127.0.0.1:5000" */
  url: string;
  store: RegistryStore;
  close(): Promise<void>;
}

export async function openStorage(opts: StorageOptions): Promise<StorageDriver> {
  if ((opts.storage ?? 'fs') === 's3') {
    if (!opts.s3Bucket) throw new Error('--storage s3 needs --s3-bucket');
    // Loaded only for S3: the SDK is large and a filesystem registry should not pay for it.
    const { S3Driver } = require('./storage-s3') as typeof import('./storage-s3');
    const driver = new S3Driver({
      bucket: opts.s3Bucket,
      endpoint: opts.s3Endpoint,
      region: opts.s3Region,
      prefix: opts.s3Prefix,
      accessKeyId: opts.s3AccessKey ?? process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: opts.s3SecretKey ?? process.env.AWS_SECRET_ACCESS_KEY,
    });
    await driver.init();
    return driver;
  }
  if (opts.storage !== undefined && opts.storage !== 'fs') throw new Error(`unknown storage driver ${JSON.stringify(opts.storage)}: fs or s3`);
  if (!opts.root) throw new Error('the filesystem storage needs --root DIR');
  const driver = new FilesystemDriver(opts.root);
  await driver.init();
  return driver;
}

function authorizer(opts: ServeOptions): { auth?: Authorizer; tokens?: TokenAuth } {
  const policy = opts.acl ? AccessPolicy.fromFile(opts.acl) : undefined;
  if (opts.tokenKey) {
    if (!opts.htpasswd) throw new Error('--token-key needs --htpasswd for the users the token endpoint signs in');
    const tokens = new TokenAuth({
      users: new Htpasswd(opts.htpasswd), policy, key: loadOrCreateSigningKey(opts.tokenKey),
      realm: opts.tokenRealm, service: opts.tokenService, issuer: opts.tokenIssuer,
    });
    return { auth: tokens, tokens };
  }
  if (opts.htpasswd) return { auth: new BasicAuth(new Htpasswd(opts.htpasswd), policy) };
  return {};
}

export async function serveRegistry(opts: ServeOptions): Promise<RunningRegistry> {
  const m = /^(.*):(\d+)$/.exec(opts.addr);
  if (!m) throw new Error(`invalid --addr ${JSON.stringify(opts.addr)}: HOST:PORT`);
  const host = m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0';
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  const driver = await openStorage(opts);
  const store = new RegistryStore(driver, { deleteEnabled: opts.delete });
  const tls = opts.tlsCert && opts.tlsKey ? { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) } : undefined;
  const server = createRegistryServer({ store, ...authorizer(opts), tls, log: opts.log });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `${tls ? 'https' : 'http'}://${shown}:${port}`,
    store,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await driver.close?.();
    },
  };
}

export async function collectGarbage(opts: StorageOptions & GcOptions): Promise<GcReport> {
  const driver = await openStorage(opts);
  try {
    return await garbageCollect(driver, opts);
  } finally {
    await driver.close?.();
  }
}
