// `{id}` path parameters of swarm objects resolved as dockerd's cluster code does: full ID, then exact name, then ID
// prefix; none is "<kind> X not found" (404), several are "<kind> X is ambiguous (N matches found)" (400).
import { InvalidParameterError, NotFoundError } from '../../errdefs';

export type LookupKind = 'service' | 'node' | 'task' | 'secret' | 'config' | 'network';

export function lookup<T extends { ID: string }>(kind: LookupKind, input: string, items: readonly T[], nameOf: (item: T) => string | undefined): T {
  const byId = items.find((i) => i.ID === input);
  if (byId) return byId;
  const byName = items.filter((i) => nameOf(i) === input);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw ambiguous(kind, input, byName.length);
  const byPrefix = input ? items.filter((i) => i.ID.startsWith(input)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw ambiguous(kind, input, byPrefix.length);
  throw new NotFoundError(`${kind} ${input} not found`);
}

function ambiguous(kind: LookupKind, input: string, n: number): InvalidParameterError {
  return new InvalidParameterError(`${kind} ${input} is ambiguous (${n} matches found)`);
}

/** The name each kind is looked up by: a node's hostname, a task's `svc.slot.id` (given the service's name). */
export const nameOf = {
  node: (n: { Spec?: { Name?: string }; Description?: { Hostname?: string } }) => n.Description?.Hostname,
  annotated: (o: { Spec?: { Name?: string } }) => o.Spec?.Name,
};
