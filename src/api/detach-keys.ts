// Watches an attach or exec stdin stream for the detach sequence, as dockerd does, so any client can detach.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { InvalidParameterError } from '../errdefs';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../wire/detach-keys';

/** The detach keys of a request (`?detachKeys=` or an exec's DetachKeys), Docker's default when empty. */
export function detachKeysOf(spec: string | null | undefined): Buffer {
  try {
    return parseDetachKeys(spec || DEFAULT_DETACH_KEYS);
  } catch (err) {
    throw new InvalidParameterError((err as Error).message);
  }
}

/**
 * Passes input through until the sequence is typed, then ends (without the sequence) and calls `onDetach`.
 * Bytes that begin the sequence are held back until it is clear they do not complete it, as docker's escape proxy does.
 */
export function filterDetachKeys(input: Readable, keys: Buffer, onDetach: () => void): Readable {
  let matched = 0;
  let detached = false;
  const filter = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (detached) return done();
      const out: number[] = [];
      for (const byte of chunk) {
        if (byte === keys[matched]) {
          matched++;
          if (matched === keys.length) {
            detached = true;
            if (out.length) this.push(Buffer.from(out));
            this.push(null);
            onDetach();
            return done();
          }
          continue;
        }
        // The held-back prefix was ordinary input after all.
        if (matched) out.push(...keys.subarray(0, matched));
        matched = 0;
        if (byte === keys[0]) matched = 1;
        else out.push(byte);
      }
      if (out.length) this.push(Buffer.from(out));
      done();
    },
    flush(done: TransformCallback) {
      if (matched && !detached) this.push(keys.subarray(0, matched));
      done();
    },
  });
  input.on('error', (e) => filter.destroy(e));
  input.on('close', () => { if (!filter.writableEnded) filter.end(); });
  return input.pipe(filter);
}
