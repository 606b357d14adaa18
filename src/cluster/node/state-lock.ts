// Autolock's half in the store: the cluster object's root CA key and manager unlock key sealed with the cluster's
// data-encryption key (which only managers hold, on disk, itself sealed with the unlock key's KEK when autolocked),
// what a swarm update does to the unlock key (made, kept, rotated, dropped), and the texts of the locked state.
import { StateError, UnavailableError } from '../../errdefs';
import type { RootMaterial } from '../ca/ca';
import { generateUnlockKey, isSealed, open, seal } from '../ca/unlock-key';

/** The root CA as the cluster object stores it: the key sealed with the data key (clear only in swarms made before). */
export interface StoredRootCA {
  certPem: string;
  sealedKeyPem?: string;
  /** Clusters made before autolock: the key in the clear. */
  keyPem?: string;
}

/** The fields of the stored cluster object autolock reads and writes. */
export interface LockFields {
  RootCA: StoredRootCA;
  Spec: { EncryptionConfig?: { AutoLockManagers: boolean } };
  /** The manager unlock key (SWMKEY-1-...) sealed with the data key; absent when autolock is off. */
  ManagerUnlockKey?: string;
}

export const LOCK_TEXT = {
  locked: 'Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.',
  leaveLocked: 'Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.',
  notLocked: 'swarm is not locked',
};

export function lockedError(): UnavailableError {
  return new UnavailableError(LOCK_TEXT.locked);
}

export function notLockedError(): StateError {
  return new StateError(LOCK_TEXT.notLocked);
}

function dataKey(dekBase64: string | undefined): Buffer {
  if (!dekBase64) throw new UnavailableError('this manager holds no cluster data key (a swarm made before autolock existed)');
  return Buffer.from(dekBase64, 'base64');
}

export function sealRoot(root: RootMaterial, dekBase64: string): StoredRootCA {
  return { certPem: root.certPem, sealedKeyPem: seal(dataKey(dekBase64), root.keyPem) };
}

/** The root CA with its key, for a manager that signs (join, promote, demote). */
export function openRoot(stored: StoredRootCA, dekBase64: string | undefined): RootMaterial {
  if (stored.keyPem) return { certPem: stored.certPem, keyPem: stored.keyPem };
  const key = stored.sealedKeyPem && open(dataKey(dekBase64), stored.sealedKeyPem);
  if (!key) throw new UnavailableError('the root CA key cannot be opened with this manager\'s data key');
  return { certPem: stored.certPem, keyPem: key.toString('utf8') };
}

/** The clear unlock key of a cluster object ("" when autolock is off). */
export function unlockKeyOf(c: Pick<LockFields, 'ManagerUnlockKey'>, dekBase64: string | undefined): string {
  if (!c.ManagerUnlockKey) return '';
  const key = isSealed(c.ManagerUnlockKey) && open(dataKey(dekBase64), c.ManagerUnlockKey);
  if (!key) throw new UnavailableError('the unlock key cannot be opened with this manager\'s data key');
  return key.toString('utf8');
}

/** The sealed unlock key field for a new cluster object (init). */
export function initialUnlockKey(autoLock: boolean, dekBase64: string): { clear?: string; sealed?: string } {
  if (!autoLock) return {};
  const clear = generateUnlockKey();
  return { clear, sealed: seal(dataKey(dekBase64), clear) };
}

/**
 * The unlock key after a swarm update, as swarmkit's controlapi: made when autolock turns on, a new one when
 * rotation is asked while it stays on, dropped when it turns off (an update body without EncryptionConfig does that).
 */
export function unlockKeyAfterUpdate(prev: Pick<LockFields, 'ManagerUnlockKey'>, next: Pick<LockFields, 'Spec'>, rotate: boolean, dekBase64: string | undefined): string | undefined {
  if (!next.Spec.EncryptionConfig?.AutoLockManagers) return undefined;
  if (prev.ManagerUnlockKey && !rotate) return prev.ManagerUnlockKey;
  return seal(dataKey(dekBase64), generateUnlockKey());
}
