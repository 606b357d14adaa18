// Compiled seccomp filters reused across containers: crun compiles the spec's seccomp profile with libseccomp at
// every create (a third of a `crun run` on a loaded host, issue 15), and keeps the result in its state directory as
// seccomp.bpf. A profile seen before is handed back compiled through crun's `run.oci.seccomp_bpf_data` annotation.
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { RuntimeSpec } from '../wire/oci';

/** crun's annotation (crun(1)): base64 of the raw filter, used instead of compiling the spec's seccomp section. */
export const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';
/** Where crun keeps a container's compiled filter, in its state directory (`crun exec` loads it from there). */
const STATE_FILE = 'seccomp.bpf';
/** Profiles differ by capabilities and options; a handful is usual, this bounds a host that varies them a lot. */
const MAX_PROFILES = 32;
/** Containers between their bundle and their create: as many as start at once, far fewer than this. */
const MAX_PENDING = 256;

export class SeccompBpfCache {
  /** Profile digest → base64 of its compiled filter. */
  private readonly compiled = new Map<string, string>();
  /** Container ID → digest of the profile its bundle asked to be compiled, until its create has been seen. */
  private readonly pending = new Map<string, string>();

  /**
   * Adds the compiled filter to `spec` when its profile was compiled before; otherwise notes the container so that
   * `learn` keeps what crun compiles for it. Specs without seccomp, or naming a filter of their own, are left alone.
   */
  prepare(id: string, spec: RuntimeSpec): void {
    this.pending.delete(id);
    if (!spec.linux?.seccomp || spec.annotations?.[SECCOMP_BPF_ANNOTATION] !== undefined) return;
    const digest = createHash('sha256').update(JSON.stringify(spec.linux.seccomp)).digest('hex');
    const bpf = this.compiled.get(digest);
    if (bpf) spec.annotations = { ...spec.annotations, [SECCOMP_BPF_ANNOTATION]: bpf };
    else {
      // A create that never came (its bundle failed later) leaves its entry: the oldest go past a bound.
      if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(id, digest);
    }
  }

  /** A create that failed: nothing to learn from it. */
  forget(id: string): void { this.pending.delete(id); }

  /** After a successful create: keeps the filter crun compiled for the container, from its state directory. */
  async learn(id: string, stateDir: string): Promise<void> {
    const digest = this.pending.get(id);
    if (!digest) return;
    this.pending.delete(id);
    // A runtime that keeps no compiled filter (runc) simply never fills the cache.
    const bpf = await fsp.readFile(path.join(stateDir, STATE_FILE)).catch(() => undefined);
    if (!bpf || bpf.length === 0 || bpf.length % 8 !== 0) return; // a BPF program is a whole number of 8-byte instructions
    if (this.compiled.size >= MAX_PROFILES) this.compiled.delete(this.compiled.keys().next().value!);
    this.compiled.set(digest, bpf.toString('base64'));
  }
}
