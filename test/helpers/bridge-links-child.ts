// Runs one IprouteBridgeLinks call given as JSON on argv, for tests that run it under `ip netns exec` (a network
// namespace and a /sys of the test's own): the adapter works on the namespace of its process.
import { IprouteBridgeLinks } from '../../src/network/bridge/links-iproute';

const [op, ...args] = JSON.parse(process.argv[2]!) as [string, ...unknown[]];
const links = new IprouteBridgeLinks() as unknown as Record<string, (...a: unknown[]) => Promise<void>>;
links[op]!(...args).then(() => process.exit(0), (e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
