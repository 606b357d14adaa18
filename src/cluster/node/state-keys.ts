// This node's secrets at rest (its TLS private key and, on managers, the cluster's data-encryption key), in the clear
// or sealed with the key-encryption key of the swarm's unlock key (autolock), and the one clear copy etcd reads (in
// the exec root, a tmpfs: etcd reads its key file by path at every handshake and cannot take a passphrase, so the
// copy it reads must not move when autolock is turned on or off under a running member).
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UnauthorizedError } from '../../errdefs';
import { writeFileAtomic } from '../../store/atomic';
import { keyEncryptionKey, open, seal } from '../ca/unlock-key';

export interface NodeSecrets {
  keyPem: string;
  /** Managers only: the cluster data-encryption key (base64). */
  dek?: string;
}

export const INVALID_UNLOCK_KEY = 'swarm could not be unlocked: invalid key provided';

export class NodeSecretsFile {
  constructor(private readonly certDir: string, private readonly runDir: string) {}

  /** The key in the clear (not autolocked). */
  get clearKeyPath(): string { return path.join(this.certDir, 'swarm-node.key'); }
  private get clearDekPath(): string { return path.join(this.certDir, 'swarm-dek'); }
  private get sealedPath(): string { return path.join(this.certDir, 'swarm-node.key.sealed'); }
  /** Where etcd reads the key of a sealed node (exec root: memory, gone at reboot). */
  get runtimeKeyPath(): string { return path.join(this.runDir, 'swarm-node.key'); }

  /** Whether the secrets on disk are sealed (the node comes up locked). */
  isSealed(): boolean {
    return fs.existsSync(this.sealedPath);
  }

  /** The key file etcd is given: always the exec-root copy, written whenever the secrets are read or written. */
  keyFileForEtcd(): string {
    return this.runtimeKeyPath;
  }

  /**
   * Writes the secrets sealed with the unlock key's KEK, or in the clear without one; the other form is removed
   * after the new one is in place (a crash in between leaves both, and the sealed one wins at the next start).
   */
  async write(secrets: NodeSecrets, unlockKey: string | undefined): Promise<void> {
    await fsp.mkdir(this.certDir, { recursive: true, mode: 0o700 });
    if (unlockKey) {
      const kek = keyEncryptionKey(unlockKey);
      if (!kek) throw new Error('malformed unlock key');
      await writeFileAtomic(this.sealedPath, seal(kek, JSON.stringify(secrets)), 0o600);
      await fsp.rm(this.clearKeyPath, { force: true });
      await fsp.rm(this.clearDekPath, { force: true });
      await this.writeRuntimeKey(secrets.keyPem);
      return;
    }
    await writeFileAtomic(this.clearKeyPath, secrets.keyPem, 0o600);
    if (secrets.dek) await writeFileAtomic(this.clearDekPath, secrets.dek, 0o600);
    else await fsp.rm(this.clearDekPath, { force: true });
    await fsp.rm(this.sealedPath, { force: true });
    await this.writeRuntimeKey(secrets.keyPem);
  }

  /** The clear secrets; undefined when they are sealed (or there are none). */
  async readClear(): Promise<NodeSecrets | undefined> {
    if (this.isSealed()) return undefined;
    try {
      const keyPem = await fsp.readFile(this.clearKeyPath, 'utf8');
      const dek = await fsp.readFile(this.clearDekPath, 'utf8').catch(() => undefined);
      await this.writeRuntimeKey(keyPem);
      return dek ? { keyPem, dek } : { keyPem };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Opens the sealed secrets with an unlock key (401 with moby's text for a wrong one) and gives etcd its copy. */
  async unseal(unlockKey: string): Promise<NodeSecrets> {
    const kek = keyEncryptionKey(unlockKey);
    const sealed = await fsp.readFile(this.sealedPath, 'utf8');
    const plain = kek && open(kek, sealed);
    if (!plain) throw new UnauthorizedError(INVALID_UNLOCK_KEY);
    const secrets = JSON.parse(plain.toString('utf8')) as NodeSecrets;
    await this.writeRuntimeKey(secrets.keyPem);
    return secrets;
  }

  private async writeRuntimeKey(keyPem: string): Promise<void> {
    await fsp.mkdir(this.runDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.runtimeKeyPath, keyPem, 0o600);
  }

  /** Forgets every form (swarm leave). */
  async wipe(): Promise<void> {
    await fsp.rm(this.runtimeKeyPath, { force: true });
  }
}
