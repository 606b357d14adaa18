// Placement constraints (`node.labels.az==a`): swarmkit's constraint.Parse with its words, and the matching the
// scheduler and the global orchestrator share (case-insensitive equality, an unknown key matches nothing).
import { SwarmUnknownError } from './errors';

export interface Constraint { key: string; equal: boolean; value: string }

const OPERATORS = ['==', '!='] as const;
const KEY = /^[a-z_][a-z0-9\-_.]+$/i;
const VALUE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;

/** Parses each expression; a bad one is a plain swarmkit error (dockerd answers 500). */
export function parseConstraints(exprs: readonly string[]): Constraint[] {
  return exprs.map((e) => {
    const op = OPERATORS.find((o) => e.includes(o));
    if (!op) throw new SwarmUnknownError(`constraint expected one operator from ${OPERATORS.join(', ')}`);
    const at = e.indexOf(op);
    const key = e.slice(0, at).trim();
    if (!KEY.test(key)) throw new SwarmUnknownError(`key '${key}' is invalid`);
    const value = e.slice(at + op.length).trim();
    if (!VALUE.test(value)) throw new SwarmUnknownError(`value '${value}' is invalid`);
    return { key, equal: op === '==', value };
  });
}

/** Does `actual` (undefined: the node has no such attribute; a missing label compares as "") satisfy `c`? */
export function constraintHolds(c: Constraint, actual: string | undefined): boolean {
  const same = (actual ?? '').toLowerCase() === c.value.toLowerCase();
  return c.equal ? same : !same;
}
