// Typed decoders for request bodies: a declared shape checks a parsed JSON value as Go's encoding/json would
// unmarshal it into moby's structs, refusing a wrong type with Go's words, and gives the route a checked type.
import { InvalidParameterError } from '../../errdefs';

/** Where a value sits: the innermost Go struct and the field path from the body's root, as Go's errors name them. */
interface At { struct: string; fields: string[] }

export interface Shape<T> {
  /** The Go type named in errors ("string", "[]string", "map[string]string", "container.HostConfig"). */
  readonly goType: string;
  /** Checks `v` (never undefined; null is Go's "leave the zero value" and passes every shape). */
  check(v: unknown, at: At | undefined): void;
  /** Go's zero value, which a null in a list or map becomes (so `["a", null]` reaches the engine as `["a", ""]`). */
  readonly zero?: unknown;
  /** Phantom: the TypeScript type the shape stands for. */
  readonly _type?: T;
}

export type Infer<S> = S extends Shape<infer T> ? T : never;

/** The JSON kind Go names in "cannot unmarshal KIND": number values are named with their text. */
function kindOf(v: unknown, withNumber = false): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return withNumber ? `number ${v}` : 'number';
  return typeof v;
}

function typeError(v: unknown, goType: string, at: At | undefined, withNumber = false): InvalidParameterError {
  const into = at && at.fields.length ? `Go struct field ${at.struct}.${at.fields.join('.')}` : 'Go value';
  return new InvalidParameterError(`json: cannot unmarshal ${kindOf(v, withNumber)} into ${into} of type ${goType}`);
}

function leaf<T>(goType: string, zero: T, ok: (v: unknown) => boolean): Shape<T> {
  return { goType, zero, check(v, at) { if (v !== null && !ok(v)) throw typeError(v, goType, at); } };
}

export const str = leaf<string>('string', '', (v) => typeof v === 'string');
export const bool = leaf<boolean>('bool', false, (v) => typeof v === 'boolean');
export const float = leaf<number>('float64', 0, (v) => typeof v === 'number');
/** Any JSON value (Go's interface{}, or a field the engine reads loosely and checks itself). */
export const anyJson: Shape<unknown> = { goType: 'interface {}', check() {} };
/** Go's *string: a string, or null kept as null (nil), where null means something else than "" (a build arg's "from the environment"). */
export const nullableStr: Shape<string | null> = { goType: 'string', check: str.check };

/** A Go integer type: a number that is whole and in range, else "cannot unmarshal number 1.5 into ... of type int64". */
export function int(goType: 'int' | 'uint' | 'int64' | 'uint64' | 'int32' | 'uint32' | 'uint16' | 'uint8' | 'int8' = 'int64'): Shape<number> {
  // 2^63 and 2^64 stand for the largest int64 and uint64, which a double cannot hold exactly.
  const [lo, hi] = {
    int: [-(2 ** 63), 2 ** 63], uint: [0, 2 ** 64], int64: [-(2 ** 63), 2 ** 63], uint64: [0, 2 ** 64], int32: [-(2 ** 31), 2 ** 31 - 1],
    uint32: [0, 2 ** 32 - 1], uint16: [0, 65535], uint8: [0, 255], int8: [-128, 127],
  }[goType] as [number, number];
  return {
    goType,
    zero: 0,
    check(v, at) {
      if (v === null) return;
      if (typeof v !== 'number') throw typeError(v, goType, at);
      if (!Number.isInteger(v) || v < lo || v > hi) throw typeError(v, goType, at, true);
    },
  };
}

/** A Go slice, or a fixed-size array when `goType` names one ("[2]uint": Go fills or drops to that length, the engine decides). */
export function array<T>(item: Shape<T>, goType = `[]${item.goType}`): Shape<T[]> {
  return {
    goType,
    check(v, at) {
      if (v === null) return;
      if (!Array.isArray(v)) throw typeError(v, goType, at);
      v.forEach((x, i) => {
        if (x === null && item.zero !== undefined) v[i] = item.zero;
        else item.check(x, at);
      });
    },
  };
}

/** A JSON object, which both a Go map and a Go struct are read from. */
function objectOf(v: unknown, goType: string, at: At | undefined): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw typeError(v, goType, at);
  return v as Record<string, unknown>;
}

/** A Go map from strings; `goType` names it when Go's name differs from the value's (`map[string]*string`). */
export function map<T>(value: Shape<T>, goType = `map[string]${value.goType}`): Shape<Record<string, T>> {
  return {
    goType,
    check(v, at) {
      if (v === null) return;
      const o = objectOf(v, goType, at);
      for (const [k, x] of Object.entries(o)) {
        if (x === null && value.zero !== undefined) o[k] = value.zero;
        else value.check(x, at);
      }
    },
  };
}

/** Either of two JSON forms (moby's strslice takes a string or a list of strings). */
export function oneOf<A, B>(a: Shape<A>, b: Shape<B>): Shape<A | B> {
  return {
    goType: b.goType,
    check(v, at) {
      try { a.check(v, at); } catch { b.check(v, at); }
    },
  };
}

type Fields = Record<string, Shape<unknown>>;
type StructOf<F extends Fields> = { [K in keyof F]?: Infer<F[K]> | null } & Record<string, unknown>;

/**
 * A Go struct: an object whose named fields have their shapes; other keys pass untouched (Go ignores unknown ones).
 * `name` is the struct's type name as Go's errors print it ("CreateRequest"), `goType` its qualified one
 * ("container.HostConfig") when it differs. Keys match fields case-insensitively, as Go's do, and a key that names
 * a field in other letters is renamed to the field (docker-py sends an exec's `detachKeys`), so the engine reads
 * one spelling; when the exact name is also there, it wins and the other key stays as an unknown one.
 */
export function struct<F extends Fields>(name: string, fields: F, goType = name): Shape<StructOf<F>> {
  const folded = new Map(Object.keys(fields).map((k) => [k.toLowerCase(), k]));
  return {
    goType,
    check(v, at) {
      if (v === null) return;
      const o = objectOf(v, goType, at);
      for (const [key, x] of Object.entries(o)) {
        let field: string | undefined = key;
        if (!Object.hasOwn(fields, key)) {
          field = folded.get(key.toLowerCase());
          if (!field || Object.hasOwn(o, field)) continue;
          delete o[key];
          o[field] = x;
        }
        if (x === undefined) continue;
        fields[field]!.check(x, { struct: name, fields: [...(at?.fields ?? []), field] });
      }
    },
  };
}

/**
 * A query parameter holding JSON (build's buildargs, labels, cachefrom, ulimits), decoded into its shape as moby's
 * json.Unmarshal does: absent or empty is undefined, JSON null too; errors say `error reading WHAT: ...`.
 */
export function jsonQuery<T>(q: URLSearchParams, name: string, shape: Shape<T>, what: string): T | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  try {
    return decode(shape, JSON.parse(raw) as unknown) ?? undefined;
  } catch (err) {
    throw new InvalidParameterError(`error reading ${what}: ${(err as Error).message}`);
  }
}

/** Checks a parsed body against its shape; an absent body stays absent. */
export function decode<T>(shape: Shape<T>, v: unknown): T | undefined {
  if (v === undefined) return undefined;
  shape.check(v, undefined);
  return v as T;
}
