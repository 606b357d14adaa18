// Runs IprouteBridgeLinks calls given as JSON on argv, for tests that run it under `ip netns exec` (a network
// namespace and a /sys of the test's own): the adapter works on the namespace of its process. argv[2] is one call
// ([op, ...args]) or a list of them; the op `sh` runs a shell command in the same process's namespaces (what a test
// must see before the process ends: a namespace the adapter made is held by this process's descriptor only), and
// the outputs of the `sh` calls are printed as a JSON list.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { IprouteBridgeLinks } from '../../src/network/bridge/links-iproute';
import { LinuxNetns, type FreshNamespaces } from '../../src/network/netns';

type Call = [string, ...unknown[]];
const arg = JSON.parse(process.argv[2]!) as Call | Call[];
const calls = typeof arg[0] === 'string' ? [arg as Call] : (arg as Call[]);
// As berthd makes them: a fresh endpoint's namespace held by this process's descriptor (its file a symlink to it),
// by a manager of the file's directory.
const managers = new Map<string, LinuxNetns>();
const namespaces: FreshNamespaces = {
  configureFresh: (file, command, input) => {
    const dir = path.dirname(file);
    if (!managers.has(dir)) managers.set(dir, new LinuxNetns(dir));
    return managers.get(dir)!.configureFresh(file, command, input);
  },
};
const links = new IprouteBridgeLinks(namespaces) as unknown as Record<string, (...a: unknown[]) => Promise<void>>;

async function main(): Promise<void> {
  const outputs: string[] = [];
  for (const [op, ...args] of calls) {
    if (op === 'sh') outputs.push(execFileSync('sh', ['-c', String(args[0])], { encoding: 'utf8' }));
    else await links[op]!(...args);
  }
  if (outputs.length) process.stdout.write(JSON.stringify(outputs));
}

main().then(() => process.exit(0), (e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
