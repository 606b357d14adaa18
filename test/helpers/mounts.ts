// Mounts as this process sees them: berthd runs in the tests' mount namespace, so its mounts show here too.
import * as fs from 'node:fs';

/** Mount points below `dir` in berthd's (and so our) mount namespace. */
export function mountsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(dir));
}
