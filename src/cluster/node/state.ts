// This node's swarm membership on disk (<dataRoot>/swarm/state.json, written crash-safely): what a restarted berthd
// needs to find its etcd member again and rejoin, and the certificate files etcd and the control endpoint use.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../../store/atomic';

export interface SwarmState {
  nodeId: string;
  clusterId: string;
  role: 'manager' | 'worker';
  /** The host part managers and peers reach this node at. */
  advertiseAddr: string;
  listenAddr: string;
  controlPort: number;
  /** etcd client URLs this node talks to (its own member first when a manager). */
  etcdEndpoints: string[];
  /** Present for managers: this node's etcd member. */
  member?: { name: string; clientUrl: string; peerUrl: string; dataDir: string };
  /** Control endpoints of the managers (host:port), refreshed from the store. */
  remoteManagers: { NodeID: string; Addr: string }[];
}

export interface CertificateFiles { cert: string; key: string; ca: string }

export class SwarmStateFile {
  readonly dir: string;

  constructor(dataRoot: string) {
    this.dir = path.join(dataRoot, 'swarm');
  }

  private get file(): string { return path.join(this.dir, 'state.json'); }

  certificateFiles(): CertificateFiles {
    const d = path.join(this.dir, 'certificates');
    return { cert: path.join(d, 'swarm-node.crt'), key: path.join(d, 'swarm-node.key'), ca: path.join(d, 'swarm-root-ca.crt') };
  }

  async load(): Promise<SwarmState | undefined> {
    try {
      return JSON.parse(await fsp.readFile(this.file, 'utf8')) as SwarmState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async save(state: SwarmState): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, JSON.stringify(state, null, 2), 0o600);
  }

  async saveCertificates(c: { certPem: string; keyPem: string; caPem: string }): Promise<CertificateFiles> {
    const files = this.certificateFiles();
    await fsp.mkdir(path.dirname(files.cert), { recursive: true, mode: 0o700 });
    await writeFileAtomic(files.ca, c.caPem, 0o644);
    await writeFileAtomic(files.key, c.keyPem, 0o600);
    await writeFileAtomic(files.cert, c.certPem, 0o644);
    return files;
  }

  async readCertificates(): Promise<{ certPem: string; keyPem: string; caPem: string }> {
    const f = this.certificateFiles();
    const [certPem, keyPem, caPem] = await Promise.all([f.cert, f.key, f.ca].map((p) => fsp.readFile(p, 'utf8')));
    return { certPem: certPem!, keyPem: keyPem!, caPem: caPem! };
  }

  /** Forgets the swarm: state, certificates and the etcd data under it. */
  async wipe(): Promise<void> {
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}
