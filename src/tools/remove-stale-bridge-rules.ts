// Removes the packet-filter rules of Berth bridges that no longer exist on the host: what a bench or test run calls
// after deleting the bridge of a berthd it stopped. A default bridge's rules outlive berthd on purpose (containers
// outlive it too, decision 19), so nothing else removes them once the bridge itself is deleted by hand.
// Usage: node dist/tools/remove-stale-bridge-rules.js   (bridges that exist, anyone's, are left alone)
import { errorMessage } from '../errdefs';
import { IptablesBridgeFirewall } from '../network/bridge/iptables-firewall';

new IptablesBridgeFirewall().reconcile([]).catch((e: unknown) => {
  process.stderr.write(`remove-stale-bridge-rules: ${errorMessage(e)}\n`);
  process.exitCode = 1;
});
