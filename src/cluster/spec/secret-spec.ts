// Secret and config specs as swarmkit's controlapi checks them: name rules, data size limits, updates of Labels
// only; and the API versions below which templating is refused.
import { InvalidParameterError } from '../../errdefs';
import type { ConfigSpec, SecretSpec } from '../../wire/swarm';
import { invalidArgument } from './errors';

const NAME = /^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const MAX_SECRET_SIZE = 500 * 1024;
export const MAX_CONFIG_SIZE = 1000 * 1024;

export type SecretKind = 'secret' | 'config';

export function checkSecretOrConfigName(name: string | undefined): void {
  if (!name) throw invalidArgument('name must be provided');
  if (name.length > 64 || !NAME.test(name)) {
    throw invalidArgument('invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]');
  }
}

/** The decoded size of base64 Data; bad base64 is refused as Go's []byte decoding refuses it. */
export function dataBytes(data: string | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  if (!BASE64.test(data)) throw new InvalidParameterError('illegal base64 data at input byte 0');
  return Buffer.from(data, 'base64');
}

/** Checks a create and returns the spec as stored (Labels never null). */
export function normaliseSecretSpec(kind: SecretKind, input: SecretSpec | ConfigSpec): SecretSpec {
  const spec: SecretSpec = { ...input, Labels: input.Labels ?? {} };
  checkSecretOrConfigName(spec.Name);
  const size = dataBytes(spec.Data).length;
  if (kind === 'secret' && spec.Driver) {
    if (!spec.Driver.Name) throw invalidArgument('secret driver must have a name');
  } else {
    const max = kind === 'secret' ? MAX_SECRET_SIZE : MAX_CONFIG_SIZE;
    if (size < 1 || size >= max) throw invalidArgument(`${kind} data must be larger than 0 and less than ${max} bytes`);
  }
  if (kind === 'config') delete spec.Driver;
  if (!spec.Driver) delete spec.Driver;
  if (!spec.Templating) delete spec.Templating;
  return spec;
}

/** An update may change the Labels only (Data absent or identical is fine); returns the stored spec updated. */
export function updateSecretSpec(current: SecretSpec, next: SecretSpec): SecretSpec {
  const sameData = next.Data === undefined || next.Data === null || next.Data === '' || next.Data === current.Data;
  if ((next.Name ?? '') !== (current.Name ?? '') || !sameData) throw invalidArgument('only updates to Labels are allowed');
  return { ...current, Labels: next.Labels ?? {} };
}

/** Templating needs API 1.37 (dockerd's router refuses it below). */
export function templatingSupported(kind: SecretKind, spec: SecretSpec, version: string, olderThan: (v: string, than: string) => boolean): void {
  if (spec.Templating && olderThan(version, '1.37')) throw new InvalidParameterError(`${kind} templating is not supported on the specified API version: ${version}`);
}

/** What a read answers: a secret's Data never leaves the cluster; a config's does. */
export function forRead<T extends { Spec: SecretSpec }>(kind: SecretKind, object: T): T {
  if (kind === 'config') return object;
  const { Data: _data, ...spec } = object.Spec;
  return { ...object, Spec: spec };
}
