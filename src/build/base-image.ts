// Where a FROM (or COPY --from) image comes from when it is not local: the registry, else, for Debian's official
// images, a bootstrap from Debian's mirror (no registry is reachable from many hosts, Docker Hub included).
import { errorMessage } from '../errdefs';
import { debianTarget, type DebianBootstrap } from '../image/bootstrap';
import type { JsonMessage } from '../wire/docker';
import type { BuilderDeps } from './builder-ports';

export type Pull = (ref: string, progress: (msg: JsonMessage) => void) => Promise<string>;

export function baseImageFetcher(pull: Pull, bootstrap: Pick<DebianBootstrap, 'bootstrap'>): NonNullable<BuilderDeps['fetchBase']> {
  return async (ref, out, signal) => {
    let pullError: unknown;
    try {
      return await pull(ref, (m) => out.progress(m));
    } catch (err) {
      pullError = err;
    }
    if (signal.aborted || !debianTarget(ref)) throw pullError;
    out.stream(`${ref} is not local and cannot be pulled (${errorMessage(pullError)}): making it from Debian's mirror\n`);
    return bootstrap.bootstrap(ref, (m) => out.progress(m), signal);
  };
}
