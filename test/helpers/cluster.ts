// Multi-node swarm tests: berthd daemons that each hold their own swarm ports (control, etcd client, etcd peer),
// and the clean-up of the etcd member a daemon leaves running (it outlives berthd by design).
import * as fs from 'node:fs';
import * as path from 'node:path';

let nextPort = 0;

/** Three free-looking ports for one daemon, from a range picked per test process. */
export function swarmPortArgs(): string[] {
  if (!nextPort) nextPort = 30000 + (process.pid % 500) * 30;
  const p = nextPort;
  nextPort += 3;
  return ['--swarm-control-port', String(p), '--etcd-client-port', String(p + 1), '--etcd-peer-port', String(p + 2)];
}

/** Kills (SIGKILL, by its pidfile) the etcd member under a daemon's data root, if one runs. */
export function killSwarmEtcd(dataRoot: string): void {
  const pidFile = path.join(dataRoot, 'swarm', 'etcd.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (argv.includes(`--data-dir=${path.join(dataRoot, 'swarm', 'etcd')}`)) process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
