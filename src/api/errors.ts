// The one place where engine errors become HTTP statuses and Docker's {"message": ...} bodies.
import {
  BerthError, ConflictError, ForbiddenError, InvalidParameterError, NotFoundError,
  NotImplementedError, StateError, SystemError, UnauthorizedError,
} from '../engine/errors';

export function statusOf(err: unknown): number {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof InvalidParameterError) return 400;
  if (err instanceof ConflictError || err instanceof StateError) return 409;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotImplementedError) return 501;
  if (err instanceof SystemError) return 500;
  if (err instanceof BerthError) return 500;
  return 500;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
