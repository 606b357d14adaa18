// A new container's root filesystem is mounted as soon as the container is created, after create's answer, so the
// mount(8) process runs while the client does its own work between create and start (the docker CLI attaches and
// asks to wait first): `docker run` no longer waits for it at start. Docker mounts at start; a created container
// holding its mount costs no disk, and removal unmounts it as before.
import type { ContainerRecord } from './container-record';

export class RootfsPremounts {
  private readonly pending = new Map<string, Promise<void>>();

  /** `mount` mounts the container's root unless it is already mounted; its failure is start's to meet and report. */
  constructor(private readonly mount: (c: ContainerRecord) => Promise<void>) {}

  /** Starts mounting `c`'s root in the background. */
  begin(c: ContainerRecord): void {
    const p: Promise<void> = this.mount(c).catch(() => undefined).finally(() => {
      if (this.pending.get(c.id) === p) this.pending.delete(c.id);
    });
    this.pending.set(c.id, p);
  }

  /** Settles once no mount begun here for the container is under way: whoever mounts or unmounts it waits first. */
  settled(id: string): Promise<void> {
    return this.pending.get(id) ?? Promise.resolve();
  }
}
