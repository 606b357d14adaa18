// What Docker's list and prune filters share.

/** A `label` filter's value against an object's labels: "key" asks that the label is there, "key=value" that it has that value. */
export function labelMatch(labels: Record<string, string>, filter: string): boolean {
  const i = filter.indexOf('=');
  const k = i < 0 ? filter : filter.slice(0, i);
  if (!Object.prototype.hasOwnProperty.call(labels, k)) return false; // own labels only: not "constructor" and such
  return i < 0 || labels[k] === filter.slice(i + 1);
}

/** moby's filters.Args.MatchKVList: every one of the given label filters matches (true when none are given). */
export function labelsMatchAll(labels: Record<string, string>, filters: readonly string[] | undefined): boolean {
  return (filters ?? []).every((f) => labelMatch(labels, f));
}

/**
 * A prune's `label` and `label!` filters, as moby's matchLabels (daemon/prune.go, daemon/images/image_prune.go,
 * daemon/network/filter.go, daemon/volume/service/by.go): every `label` filter matches, and the object is kept out
 * only when every `label!` filter matches too (`label!=a` with `label!=b` spares an object that has just one of them).
 */
export function labelFiltersMatch(labels: Record<string, string>, filters: ReadonlyMap<string, readonly string[]>): boolean {
  const not = filters.get('label!') ?? [];
  return labelsMatchAll(labels, filters.get('label')) && !(not.length > 0 && labelsMatchAll(labels, not));
}
