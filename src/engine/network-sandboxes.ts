// The network sandboxes of running containers (namespace, attachments, host ports), in memory and written ahead
// to the network store: what networks.ts asks "is this network in use?" and network-endpoints.ts changes.
import type { Attachment, NetworkStore, SandboxRecord } from '../network/network-store';

export class SandboxTable {
  private readonly byContainer = new Map<string, SandboxRecord>();

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
    await this.store.saveSandbox(s);
  }

  /** Writes `s` again after its attachments changed. */
  async save(s: SandboxRecord): Promise<void> {
    await this.store.saveSandbox(s);
  }

  /** Forgets `s` (unless another sandbox took its container's place meanwhile) and its record. */
  async remove(s: SandboxRecord): Promise<void> {
    await this.store.removeSandbox(s.containerId);
    if (this.byContainer.get(s.containerId) === s) this.byContainer.delete(s.containerId);
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
