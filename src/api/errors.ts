// The one place where engine errors become HTTP statuses and Docker's {"message": ...} bodies.
import {
  BerthError, ConflictError, ForbiddenError, InvalidParameterError, NotFoundError,
  NotImplementedError, StateError, SystemError, UnauthorizedError, UnavailableError,
} from '../errdefs';

/** A file name too long for the filesystem (ENAMETOOLONG), a URL that does not parse (ERR_INVALID_URL). */
const INPUT_ERROR_CODES = new Set(['ENAMETOOLONG', 'ERR_INVALID_URL']);

export function statusOf(err: unknown): number {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof InvalidParameterError) return 400;
  if (err instanceof ConflictError || err instanceof StateError) return 409;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotImplementedError) return 501;
  if (err instanceof UnavailableError) return 503;
  // Node's own errors that come of a name or address the client sent, when no route caught them first.
  if (INPUT_ERROR_CODES.has(String((err as NodeJS.ErrnoException | undefined)?.code))) return 400;
  if (err instanceof SystemError) return 500;
  if (err instanceof BerthError) return 500;
  return 500;
}
