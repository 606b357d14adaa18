// Reproducible build output: every image and history entry carries SOURCE_DATE_EPOCH's time (0 unless given) and
// layer mtimes are clamped to it, unless the build opts out with BERTH_REPRODUCIBLE=0.
import { InvalidParameterError } from '../errdefs';

export interface Reproducibility {
  /** `created` of every image and history entry the build writes. */
  created: string;
  /** Layer mtimes are clamped to this (seconds); undefined when reproducible output is off. */
  clamp?: number;
}

/** SOURCE_DATE_EPOCH (default 0) and the BERTH_REPRODUCIBLE opt-out, from the build args. */
export function reproducibility(buildArgs: ReadonlyMap<string, string | null>): Reproducibility {
  const off = ['0', 'false', 'no', 'off'].includes((buildArgs.get('BERTH_REPRODUCIBLE') ?? '').toLowerCase());
  const raw = buildArgs.get('SOURCE_DATE_EPOCH');
  let epoch = 0;
  if (raw !== undefined && raw !== null && raw !== '') {
    if (!/^\d+$/.test(raw)) throw new InvalidParameterError(`invalid SOURCE_DATE_EPOCH ${JSON.stringify(raw)}: expected seconds since 1970-01-01`);
    epoch = Number(raw);
  }
  const given = raw !== undefined && raw !== null && raw !== '';
  const created = off && !given ? new Date().toISOString() : rfc3339(epoch);
  return off ? { created } : { created, clamp: epoch };
}

function rfc3339(secs: number): string {
  return new Date(secs * 1000).toISOString().replace(/\.000Z$/, 'Z');
}
