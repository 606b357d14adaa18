// The error kinds every layer raises (as containerd's errdefs); api/errors.ts maps each to its HTTP status, once.

export class BerthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** The thing named does not exist (HTTP 404). */
export class NotFoundError extends BerthError {}
/** The request conflicts with the current state, e.g. a name in use (HTTP 409). */
export class ConflictError extends BerthError {}
/** The request is malformed or names something invalid (HTTP 400). */
export class InvalidParameterError extends BerthError {}
/** Not allowed in the current state, e.g. removing a running container without force (HTTP 409). */
export class StateError extends BerthError {}
/** Not implemented by Berth (HTTP 501). */
export class NotImplementedError extends BerthError {}
/** Access refused (HTTP 403). */
export class ForbiddenError extends BerthError {}
/** Authentication required or failed (HTTP 401). */
export class UnauthorizedError extends BerthError {}
/** The service asked for is not available here, e.g. swarm endpoints on a node in no swarm (HTTP 503). */
export class UnavailableError extends BerthError {}
/** A failure of the system underneath: runtime, kernel, disk (HTTP 500). */
export class SystemError extends BerthError {}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
