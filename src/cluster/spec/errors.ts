// Swarmkit's gRPC-status errors in the wording dockerd passes on (`rpc error: code = X desc = ...`), as errdefs kinds.
import { BerthError, ConflictError, InvalidParameterError, NotImplementedError } from '../../errdefs';

/** codes.InvalidArgument (and FailedPrecondition, which dockerd also answers 400). */
export function invalidArgument(desc: string): InvalidParameterError {
  return new InvalidParameterError(`rpc error: code = InvalidArgument desc = ${desc}`);
}

export function failedPrecondition(desc: string): InvalidParameterError {
  return new InvalidParameterError(`rpc error: code = FailedPrecondition desc = ${desc}`);
}

export function alreadyExists(desc: string): ConflictError {
  return new ConflictError(`rpc error: code = AlreadyExists desc = ${desc}`);
}

export function unimplemented(desc: string): NotImplementedError {
  return new NotImplementedError(`rpc error: code = Unimplemented desc = ${desc}`);
}

/**
 * A plain Go error from swarmkit, which gRPC turns into code Unknown and dockerd into 500 (constraint syntax,
 * stale versions): typed so it is not mistaken for a failure of the system, yet still 500 at the edge.
 */
export class SwarmUnknownError extends BerthError {
  constructor(desc: string) {
    super(`rpc error: code = Unknown desc = ${desc}`);
  }
}

/** A plain error raised by dockerd itself (filter values, rollback option): 500 with the bare text. */
export class PlainServerError extends BerthError {}
