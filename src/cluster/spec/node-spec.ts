// A node update's spec as swarmkit checks it: the whole NodeSpec, Role and Availability required.
import { InvalidParameterError } from '../../errdefs';
import type { NodeSpec } from '../../wire/swarm';

export function normaliseNodeSpec(input: NodeSpec): NodeSpec {
  if (!['worker', 'manager'].includes(input.Role ?? '')) throw new InvalidParameterError(`invalid Role: ${JSON.stringify(input.Role ?? '')}`);
  if (!['active', 'pause', 'drain'].includes(input.Availability ?? '')) throw new InvalidParameterError(`invalid Availability: ${JSON.stringify(input.Availability ?? '')}`);
  const spec: NodeSpec = { ...input, Labels: input.Labels ?? {} };
  if (!spec.Name) delete spec.Name;
  return spec;
}
