// The keys of encrypted overlays (model.ts EncryptionKeys): made when the first encrypted network is created, a new
// generation added by the leader every KEY_ROTATION_MS, the three newest kept (Docker's keyring: the newest sends,
// the others are still accepted while every node catches up).
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../manager/clock';
import { StoreConflict, type ClusterStore } from '../store/store';
import { KEY_ROTATION_MS, overlayKeys, type EncryptionKeys } from './model';

/** How many generations are kept. */
export const KEYS_KEPT = 3;

/** A new key: AES-GCM-128 key and its 4-byte salt (rfc4106), 20 bytes in hex, as xfrm.ts takes them. */
export function newKey(): string {
  return randomBytes(20).toString('hex');
}

/**
 * The keyring after one rotation check at `now`: a first generation when there is none, a new one when the newest is
 * KEY_ROTATION_MS old, the oldest dropped past KEYS_KEPT; undefined when nothing is due.
 */
export function rotated(current: EncryptionKeys | undefined, now: number, makeKey: () => string = newKey): EncryptionKeys | undefined {
  const keys = current?.keys ?? [];
  const newest = keys[keys.length - 1];
  if (newest && now - Date.parse(newest.createdAt) < KEY_ROTATION_MS) return undefined;
  const next = [...keys, { generation: (newest?.generation ?? 0) + 1, key: makeKey(), createdAt: new Date(now).toISOString() }];
  return { keys: next.slice(-KEYS_KEPT) };
}

/** Writes the rotation due at `now`, if any (a compare-and-swap: a concurrent writer's keyring wins and is kept). */
export async function rotateIfDue(store: ClusterStore, now: number): Promise<boolean> {
  const kv = await store.get(overlayKeys.keys());
  const next = rotated(kv ? JSON.parse(kv.value) as EncryptionKeys : undefined, now);
  if (!next) return false;
  try {
    await store.txn([kv
      ? { op: 'update', key: kv.key, value: JSON.stringify(next), expectedModRevision: kv.modRevision }
      : { op: 'create', key: overlayKeys.keys(), value: JSON.stringify(next) }]);
    return true;
  } catch (err) {
    if (err instanceof StoreConflict) return false;
    throw err;
  }
}

/** The first encrypted network needs keys at once, not at the leader's next check. */
export async function ensureEncryptionKeys(store: ClusterStore, now = Date.now()): Promise<void> {
  if (!(await store.get(overlayKeys.keys()))) await rotateIfDue(store, now);
}

/**
 * The leader's rotation loop: while it leads, checks when the newest key turns KEY_ROTATION_MS old and adds a
 * generation (only when encrypted networks ever needed keys: a keyring that does not exist is not started here).
 */
export class KeyRotation {
  private timer: Timer | undefined;
  private stopped = false;

  constructor(private readonly store: ClusterStore, private readonly clock: Clock, private readonly log?: (m: string) => void) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.check();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    let delay = 60_000;
    try {
      const kv = await this.store.get(overlayKeys.keys());
      if (kv) {
        await rotateIfDue(this.store, this.clock.now());
        const keys = (JSON.parse((await this.store.get(overlayKeys.keys()))!.value) as EncryptionKeys).keys;
        const due = Date.parse(keys[keys.length - 1]!.createdAt) + KEY_ROTATION_MS - this.clock.now();
        delay = Math.max(1000, Math.min(due, KEY_ROTATION_MS));
      }
    } catch (err) {
      this.log?.(`encryption keys: ${(err as Error).message}`);
    }
    if (this.stopped) return;
    // Without a keyring yet, look again in a minute (ensureEncryptionKeys makes the first one at network create).
    this.timer = this.clock.setTimer(delay, () => void this.check());
  }
}
