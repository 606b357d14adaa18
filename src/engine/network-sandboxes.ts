// The network sandboxes of running containers (namespace, attachments, host ports), in memory and written ahead
// to the network store: what networks.ts asks "is this network in use?" and network-endpoints.ts changes.
import type { Attachment, NetworkStore, SandboxRecord } from '../network/network-store';

export class SandboxTable {
  private readonly byContainer = new Map<string, SandboxRecord>();
  /** Each container's record-file operations, in the order asked (see remove), while any is under way. */
  private readonly fileOps = new Map<string, Promise<void>>();

  constructor(private readonly store: NetworkStore) {}

  /** Reads the sandboxes back at start-up; the store must be initialised (NetworkService.init does it). */
  async load(): Promise<void> {
    for (const s of await this.store.loadSandboxes()) this.byContainer.set(s.containerId, s);
  }

  get(containerId: string): SandboxRecord | undefined {
    return this.byContainer.get(containerId);
  }

  has(containerId: string): boolean {
    return this.byContainer.has(containerId);
  }

  all(): SandboxRecord[] {
    return [...this.byContainer.values()];
  }

  /** Takes `s` as the container's sandbox and writes it (ahead of the changes it records). */
  async put(s: SandboxRecord): Promise<void> {
    this.byContainer.set(s.containerId, s);
    await this.inOrder(s.containerId, () => this.store.saveSandbox(s));
  }

  /** Writes `s` again after its attachments changed. */
  async save(s: SandboxRecord): Promise<void> {
    await this.inOrder(s.containerId, () => this.store.saveSandbox(s));
  }

  /**
   * Forgets `s` (unless another sandbox took its container's place meanwhile) at once, and deletes its record
   * behind: nobody waits for the unlink (on a busy disk it waited for the journal, 10–150 ms, on every container's
   * exit), and the container's next write waits for it. A crash before it lands leaves a record of a container not
   * running, which start-up tears down again (NetworkEndpoints.reconcile; every step of a teardown is idempotent).
   */
  async remove(s: SandboxRecord): Promise<void> {
    if (this.byContainer.get(s.containerId) === s) this.byContainer.delete(s.containerId);
    void this.inOrder(s.containerId, () => this.store.removeSandbox(s.containerId)).catch(() => undefined);
  }

  /** Runs a file operation of the container's record after the ones asked before it (whether they failed or not). */
  private inOrder(containerId: string, op: () => Promise<void>): Promise<void> {
    const run = (this.fileOps.get(containerId) ?? Promise.resolve()).then(op);
    const settled = run.catch(() => undefined).finally(() => { if (this.fileOps.get(containerId) === settled) this.fileOps.delete(containerId); });
    this.fileOps.set(containerId, settled);
    return run;
  }

  /** Whether any sandbox has an attachment on the network, set up or not. */
  uses(networkId: string): boolean {
    return this.all().some((s) => s.attachments.some((a) => a.networkId === networkId));
  }

  /** The set-up attachments on a network, with their containers. */
  readyOn(networkId: string): { containerId: string; attachment: Attachment }[] {
    const out: { containerId: string; attachment: Attachment }[] = [];
    for (const s of this.byContainer.values()) {
      for (const a of s.attachments) if (a.networkId === networkId && a.ready) out.push({ containerId: s.containerId, attachment: a });
    }
    return out;
  }
}
