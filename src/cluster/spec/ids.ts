// Swarm object IDs as swarmkit's identity.NewID makes them: 17 random bytes with the high bit set, in base 36,
// characters 1..25 (the set high bit makes the text always 26 long), so every ID is 25 lowercase base36 characters.
import { randomBytes } from 'node:crypto';

export const ID_LENGTH = 25;

export function newObjectId(): string {
  const bytes = randomBytes(17);
  bytes[0]! |= 0x80;
  const text = BigInt(`0x${bytes.toString('hex')}`).toString(36);
  return text.slice(1, 1 + ID_LENGTH);
}

export function isObjectId(s: string): boolean {
  return s.length === ID_LENGTH && /^[0-9a-z]+$/.test(s);
}
