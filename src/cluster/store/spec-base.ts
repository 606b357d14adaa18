// Which stale versions a service update may still use. Docker's clients send the Version.Index they read with an
// update (`docker service update`/`rollback` inspect, then write), and swarmkit refuses any version but the
// current one ("update out of sequence"). But the cluster itself writes a service right after an update (its
// UpdateStatus: updating, completed), so a client that read between the user's write and the cluster's status
// write is refused although it saw the spec that is still current. Berth records, with each spec write, the
// version that write replaced (SpecBase): a client whose version is newer saw the current spec, and only the
// cluster's own status writes came after its read, so its write is accepted. A read older than the last spec
// change is still refused, so no one's spec change is lost.
import type { Service } from '../../wire/swarm';

/** A service as the store keeps it: SpecBase is the Version.Index its last spec write replaced. */
export type SpecVersioned<S extends Service = Service> = S & { SpecBase?: number };

/**
 * The version to compare-and-swap against for a client's update that read `clientVersion`: the current one when
 * only the cluster's status writes came after that read; the client's own otherwise (the store then refuses it).
 */
export function expectedVersionFor(current: SpecVersioned, clientVersion: number): number {
  const now = current.Version.Index;
  if (clientVersion === now) return now;
  const base = current.SpecBase ?? 0;
  return clientVersion > base && clientVersion < now ? now : clientVersion;
}

/** `next` (a changed spec of `current`) marked as replacing `current`'s version. */
export function withSpecChange<S extends Service>(current: SpecVersioned<S>, next: SpecVersioned<S>): SpecVersioned<S> {
  return { ...next, SpecBase: current.Version.Index };
}

/** The service without the store's bookkeeping, for the API. */
export function withoutSpecBase<S extends Service>(s: SpecVersioned<S>): S {
  const { SpecBase: _base, ...rest } = s;
  void _base;
  return rest as unknown as S;
}
