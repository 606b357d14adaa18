// What Docker's list and prune filters share.

/** A `label` filter's value against an object's labels: "key" asks that the label is there, "key=value" that it has that value. */
export function labelMatch(labels: Record<string, string>, filter: string): boolean {
  const i = filter.indexOf('=');
  if (i < 0) return filter in labels;
  const k = filter.slice(0, i);
  return k in labels && labels[k] === filter.slice(i + 1);
}
