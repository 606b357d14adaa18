// This node's swarm membership on disk (<dataRoot>/swarm/state.json, written crash-safely): what a restarted berthd
// needs to find its etcd member again and rejoin, and the certificate files etcd and the control endpoint use (the
// private key and, on managers, the cluster data key through NodeSecretsFile: in the clear, or sealed when autolocked).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../../store/atomic';
import { NodeSecretsFile, type NodeSecrets } from './state-keys';

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
  readonly keys: NodeSecretsFile;
  /** The secrets once read or unsealed: a sealed node has them only in memory. */
  private secrets: NodeSecrets | undefined;

  /** `runRoot`: the exec root (a tmpfs), where a sealed node's key is put for etcd while it runs. */
  constructor(dataRoot: string, runRoot?: string) {
    this.dir = path.join(dataRoot, 'swarm');
    this.keys = new NodeSecretsFile(path.join(this.dir, 'certificates'), path.join(runRoot ?? path.join(this.dir, 'run'), 'swarm'));
  }

  private get file(): string { return path.join(this.dir, 'state.json'); }

  certificateFiles(): CertificateFiles {
    const d = path.join(this.dir, 'certificates');
    return { cert: path.join(d, 'swarm-node.crt'), key: this.keys.keyFileForEtcd(), ca: path.join(d, 'swarm-root-ca.crt') };
  }

  /** The cluster data key this manager holds (base64), once its secrets are read; undefined on workers and while locked. */
  get dek(): string | undefined { return this.secrets?.dek; }

  /** The secrets as this process knows them (read in the clear, unsealed, or just written); undefined while locked. */
  async loadSecrets(): Promise<NodeSecrets | undefined> {
    this.secrets ??= await this.keys.readClear();
    return this.secrets;
  }

  /** Opens sealed secrets with the unlock key (401 for a wrong one) and keeps them in memory. */
  async unseal(unlockKey: string): Promise<NodeSecrets> {
    this.secrets = await this.keys.unseal(unlockKey);
    return this.secrets;
  }

  /** Writes the known secrets again, sealed with this unlock key or in the clear (autolock turned on, rotated, off). */
  async reseal(unlockKey: string | undefined, change: Partial<NodeSecrets> = {}): Promise<void> {
    const current = await this.loadSecrets();
    if (!current) throw new Error('the node key is sealed: unlock first');
    const next: NodeSecrets = { ...current, ...change };
    if (!next.dek) delete next.dek;
    await this.keys.write(next, unlockKey);
    this.secrets = next;
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

  /**
   * The node's certificate, trust root and secrets: `dek` for managers (omitted: a worker keeps none), sealed with
   * `unlockKey` when the swarm is autolocked. Returns the files etcd is started with.
   */
  async saveCertificates(c: { certPem: string; keyPem: string; caPem: string }, o: { dek?: string; unlockKey?: string } = {}): Promise<CertificateFiles> {
    const d = path.join(this.dir, 'certificates');
    await fsp.mkdir(d, { recursive: true, mode: 0o700 });
    const secrets: NodeSecrets = o.dek ? { keyPem: c.keyPem, dek: o.dek } : { keyPem: c.keyPem };
    await this.keys.write(secrets, o.unlockKey);
    this.secrets = secrets;
    const files = this.certificateFiles();
    await writeFileAtomic(files.ca, c.caPem, 0o644);
    await writeFileAtomic(files.cert, c.certPem, 0o644);
    return files;
  }

  async readCertificates(): Promise<{ certPem: string; keyPem: string; caPem: string }> {
    const f = this.certificateFiles();
    const secrets = await this.loadSecrets();
    if (!secrets) throw new Error('the node key is sealed: unlock first');
    const [certPem, caPem] = await Promise.all([f.cert, f.ca].map((p) => fsp.readFile(p, 'utf8')));
    return { certPem: certPem!, keyPem: secrets.keyPem, caPem: caPem! };
  }

  /** Forgets the swarm: state, certificates and the etcd data under it. */
  async wipe(): Promise<void> {
    this.secrets = undefined;
    await this.keys.wipe();
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}
