// Multi-node swarm tests on one host: N berthd daemons, each in its own network namespace joined to a private test
// bridge by a veth pair (a /24 the harness picks and removes), each with its own data root, exec root, socket and
// bridge name; the docker CLI against node i; kill -9 of a node's berthd and etcd member; restart; full clean-up
// (processes by PID, netns, veths, bridge; iptables rules berthd made inside a netns go with it).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { killSwarmEtcd, ROOT, swarmEtcdPid, TestDaemon } from './daemon';

export { killSwarmEtcd };

let nextPort = 0;

/** Three ports for one daemon sharing the host's network stack with others, from a range picked per test process. */
export function swarmPortArgs(): string[] {
  if (!nextPort) nextPort = 30000 + (process.pid % 500) * 30;
  const p = nextPort;
  nextPort += 3;
  return ['--swarm-control-port', String(p), '--etcd-client-port', String(p + 1), '--etcd-peer-port', String(p + 2)];
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** One node: a TestDaemon whose berthd runs inside the node's network namespace. */
export class ClusterNode extends TestDaemon {
  constructor(readonly index: number, readonly netns: string, readonly address: string) {
    super(`swn${index}`);
  }

  override async start(): Promise<this> {
    const out = fs.openSync(this.logFile, 'a');
    // The node's network namespace, in a private mount namespace whose /sys/class/net (and the devices behind it)
    // is a sysfs of that network namespace: `ip netns exec` would remount all of /sys and lose the cgroup mounts.
    const sysfs = 'd=$(mktemp -d) && mount -t sysfs sysfs "$d" && mount --bind "$d/class/net" /sys/class/net'
      + ' && mount --bind "$d/devices/virtual/net" /sys/devices/virtual/net && umount -l "$d" && rmdir "$d" && exec "$@"';
    const proc = spawn('nsenter', [`--net=/run/netns/${this.netns}`, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', sysfs, 'berthd',
      path.join(ROOT, 'bin/berthd'), '--data-root', this.dataRoot, '--exec-root', this.runRoot,
      '--bridge', this.bridge, '--default-address-pool', this.addressPool], { stdio: ['ignore', out, out], detached: true });
    this.proc = proc;
    proc.unref();
    for (let i = 0; i < 300; i++) {
      if (this.ping()) return this;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd in ${this.netns} did not start:\n${fs.readFileSync(this.logFile, 'utf8')}`);
  }

  /** kill -9 of berthd and of its etcd member (the node's whole control plane; its containers keep running). */
  async crash(): Promise<void> {
    killSwarmEtcd(this.dataRoot);
    await this.kill9();
  }

  /** PID of this node's etcd member, if running. */
  etcdPid(): number | undefined {
    return swarmEtcdPid(this.dataRoot);
  }

  override async cleanup(): Promise<void> {
    // Task containers first, through berthd (their mounts live in its private mount namespace): a crashed node's
    // berthd is started again for that.
    if (this.proc && (this.proc.exitCode !== null || this.proc.signalCode) && fs.existsSync(this.dataRoot)) await this.start().catch(() => undefined);
    if (this.proc && this.proc.exitCode === null && !this.proc.signalCode && this.ping()) {
      const ids = this.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids]);
    }
    killSwarmEtcd(this.dataRoot);
    await super.cleanup();
  }
}

/** N nodes on a private /24: 10.<a>.<b>.1 is the host's bridge, node i is .(10+i). */
export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  readonly bridge: string;
  readonly prefix: string;
  private readonly tag: string;

  constructor(readonly size: number) {
    this.tag = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 4)}`.slice(-6);
    this.bridge = `bsw${this.tag}`;
    this.prefix = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  }

  /** Makes the bridge, namespaces and veths, and starts every node's berthd with busybox imported. */
  async start(): Promise<this> {
    try {
      await this.setUp();
    } catch (err) {
      await this.cleanup();
      throw err;
    }
    return this;
  }

  private async setUp(): Promise<void> {
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${this.prefix}.1/24`, 'dev', this.bridge]);
    run('ip', ['link', 'set', this.bridge, 'up']);
    for (let i = 0; i < this.size; i++) {
      const ns = `bsw${this.tag}n${i}`;
      const host = `bsw${this.tag}h${i}`;
      const peer = `bsw${this.tag}p${i}`;
      const address = `${this.prefix}.${10 + i}`;
      run('ip', ['netns', 'add', ns]);
      run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
      run('ip', ['link', 'set', host, 'master', this.bridge, 'up']);
      run('ip', ['link', 'set', peer, 'netns', ns]);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'link', 'set', peer, 'name', 'eth0']);
      run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', ns, 'route', 'add', 'default', 'via', `${this.prefix}.1`]);
      this.nodes.push(new ClusterNode(i, ns, address));
    }
    await Promise.all(this.nodes.map((n) => n.startWithBusybox()));
  }

  node(i: number): ClusterNode {
    return this.nodes[i]!;
  }

  /** Stops every node and removes what the harness made. */
  async cleanup(): Promise<void> {
    for (const n of this.nodes) await n.cleanup().catch(() => undefined);
    for (const n of this.nodes) spawnSync('ip', ['netns', 'del', n.netns]);
    for (let i = 0; i < this.size; i++) spawnSync('ip', ['link', 'del', `bsw${this.tag}h${i}`]);
    spawnSync('ip', ['link', 'del', this.bridge]);
  }
}
