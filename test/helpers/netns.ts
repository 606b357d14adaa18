// Running tools in the named network namespaces (`ip netns`) that the network adapters' real tests build.
import { spawnSync, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';

/** Runs a command, its stdout; throws with its stderr when it fails. */
export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** `ip -n ns …` */
export const ipn = (ns: string, ...args: string[]): string => sh('ip', ['-n', ns, ...args]);

/** A command run inside the namespace. */
export const inNs = (ns: string, ...args: string[]): string => sh('ip', ['netns', 'exec', ns, ...args]);

/**
 * Makes the namespaces (loopback up) and removes them after the test, even when it fails, killing first the
 * processes the test pushes on the returned list (servers run in them).
 */
export function testNamespaces(t: TestContext, names: string[]): ChildProcess[] {
  const made: string[] = [];
  const servers: ChildProcess[] = [];
  t.after(() => {
    for (const s of servers) s.kill('SIGKILL');
    for (const ns of made) spawnSync('ip', ['netns', 'del', ns]);
  });
  for (const ns of names) {
    sh('ip', ['netns', 'add', ns]);
    made.push(ns);
    ipn(ns, 'link', 'set', 'lo', 'up');
  }
  return servers;
}
