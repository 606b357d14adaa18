// The registries side of the engine: pull (image-pull.ts) and push (image-push.ts) with Docker's JSON progress, login
// and search; the HTTP is registry/client.ts's, credentials and hosts registry-auth.ts's.
import { BlobSources } from '../image/blob-sources';
import type { LocalImages } from '../image/local-images';
import { RegistryClient, RegistryResponseError, RegistryUnreachableError, readSmall } from '../registry/client';
import { InvalidParameterError, SystemError, UnauthorizedError } from '../errdefs';
import type { AuthConfig, SearchResult } from '../wire/distribution';
import type { EventBus } from './events';
import { ImagePuller, type PullOptions, type TransferMeter } from './image-pull';
import { ImagePusher, type PushOptions } from './image-push';
import { checkedRegistryHost } from './registry-auth';
import { ImageTrust } from '../trust/image-trust';
import type { PhaseTrace } from '../util/phase-trace';

export interface DistributionOptions {
  images: LocalImages;
  events: EventBus;
  /** The image root (`<data-root>/image`): the blob sources file lives there. */
  imageRoot: string;
  insecureRegistries?: string[];
  certsDir?: string;
  /** The metrics' counts of pulls and pushes (absent without metrics-addr). */
  meter?: TransferMeter;
  /** containers-policy.json checked at each pull (absent file: accept anything). */
  signaturePolicy: string;
  /** Each pull's phase timings (BERTH_TRACE=1). */
  trace?: PhaseTrace;
}

export class DistributionService {
  readonly client: RegistryClient;
  readonly trust: ImageTrust;
  private readonly puller: ImagePuller;
  private readonly pusher: ImagePusher;
  private readonly meter?: TransferMeter;

  constructor(opts: DistributionOptions) {
    this.client = new RegistryClient({ insecureRegistries: opts.insecureRegistries, certsDir: opts.certsDir });
    this.trust = new ImageTrust({ policyPath: opts.signaturePolicy });
    const context = { images: opts.images, events: opts.events, client: this.client, sources: new BlobSources(opts.imageRoot), trust: this.trust, meter: opts.meter, ...(opts.trace ? { trace: opts.trace } : {}) };
    this.meter = opts.meter;
    this.puller = new ImagePuller(context);
    this.pusher = new ImagePusher(context);
  }

  /** `docker pull`; resolves to the image ID. */
  pull(refString: string, opts: PullOptions = {}): Promise<string> {
    return this.metered('pull', this.puller.pull(refString, opts));
  }

  /** `docker pull --all-tags`: every tag of the repository, one after the other. */
  pullAllTags(refString: string, opts: PullOptions = {}): Promise<void> {
    return this.metered('pull', this.puller.pullAllTags(refString, opts));
  }

  /** `docker push` of each tag of `name`, or only `tag`. */
  push(name: string, tag: string | undefined, opts: PushOptions = {}): Promise<void> {
    return this.metered('push', this.pusher.push(name, tag, opts));
  }

  /** The transfer, counted by the metrics as it ends (a success or a failure). */
  private metered<T>(kind: 'pull' | 'push', transfer: Promise<T>): Promise<T> {
    const meter = this.meter;
    if (!meter) return transfer;
    return transfer.then((v) => { meter.finished(kind, false); return v; }, (err: unknown) => { meter.finished(kind, true); throw err; });
  }

  // ---------- login / search ----------

  /** POST /auth: checks the credentials against the registry (the ping's challenge answered). */
  async login(auth: AuthConfig): Promise<{ Status: string; IdentityToken: string }> {
    const server = (auth.serveraddress ?? '').trim();
    if (!server) throw new InvalidParameterError('serveraddress is required');
    let host = checkedRegistryHost(server.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
    if (host === 'index.docker.io' || host === 'docker.io') host = 'registry-1.docker.io';
    const session = this.client.freshSession(host, auth);
    try {
      const r = await session.login();
      return { Status: 'Login Succeeded', IdentityToken: r.identityToken ?? '' };
    } catch (err) {
      if (err instanceof RegistryResponseError && (err.status === 401 || err.status === 403)) {
        throw new UnauthorizedError(`login attempt to ${session.origin}/v2/ failed with status: ${err.status} ${err.status === 401 ? 'Unauthorized' : 'Forbidden'}`);
      }
      if (err instanceof RegistryUnreachableError || err instanceof RegistryResponseError) throw new SystemError(err.message);
      throw err;
    }
  }

  /** GET /images/search: the repositories of a registry's catalog whose name holds the term. */
  async search(term: string, limit: number, auth: AuthConfig = {}): Promise<SearchResult[]> {
    if (!term) throw new InvalidParameterError('term is required');
    const slash = term.indexOf('/');
    const first = slash === -1 ? '' : term.slice(0, slash);
    const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
    const host = hasHost ? checkedRegistryHost(first) : 'registry-1.docker.io';
    const query = (hasHost ? term.slice(slash + 1) : term).toLowerCase();
    const session = this.client.session(host, auth);
    const names: string[] = [];
    let next: string | null = '/v2/_catalog?n=1000';
    try {
      for (let pages = 0; next && pages < 100; pages++) {
        const r = await session.request('GET', next, { scope: 'registry:catalog:*' });
        const body = JSON.parse((await readSmall(r.res, 16 << 20)).toString('utf8')) as { repositories?: string[] };
        names.push(...(body.repositories ?? []));
        const link = String(r.res.headers.link ?? '');
        next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] ?? null;
      }
    } catch (err) {
      if (err instanceof RegistryResponseError) {
        throw new SystemError(`Error searching ${host}: ${err.message}`);
      }
      if (err instanceof RegistryUnreachableError) throw new SystemError(err.message);
      throw err;
    }
    return names
      .filter((n) => n.toLowerCase().includes(query))
      .slice(0, limit > 0 ? limit : 25)
      .map((n) => ({ name: hasHost ? `${host}/${n}` : n, description: '', star_count: 0, is_official: false, is_automated: false }));
  }

  close(): void {
    this.client.close();
  }
}

