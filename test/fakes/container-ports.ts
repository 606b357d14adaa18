// Fakes of the container service's narrow ports (src/engine/container-ports.ts) for its unit tests: an OCI runtime
// that "runs" a container until it is signalled and then writes its exit file as conmon would, an image lookup over
// a fixed table, and volumes that only remember what they were asked.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidParameterError, NotFoundError } from '../../src/errdefs';
import type { ContainerRuntime, ImageLookup, ImageRef } from '../../src/engine/container-ports';
import type { ContainerMount, ContainerVolumes, PlannedMount } from '../../src/engine/container-mounts';
import type { CreateOptions } from '../../src/runtime/oci-runtime';
import type { RuntimeSpec } from '../../src/wire/oci';

/** An OCI runtime whose containers exit when killed (128 + signal), or when a test says so with exit(). */
export class FakeContainerRuntime implements ContainerRuntime {
  readonly calls: string[] = [];
  /** The error the next create fails with (then cleared). */
  failCreate: Error | undefined;
  /** Signals that do not end the process (as a shell ignoring SIGTERM). */
  readonly ignored = new Set<string>();
  private readonly exitDirs = new Map<string, string>();

  runtimePath(name: string): string {
    if (name !== 'crun' && name !== 'runc') throw new InvalidParameterError(`unknown or invalid runtime name: ${name}`);
    return `/usr/bin/${name}`;
  }

  async writeBundle(_runtime: string, _id: string, bundle: string, spec: RuntimeSpec): Promise<void> {
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  }

  /** While set, create waits for it (a start still setting up, the container not running yet). */
  createGate: Promise<void> | undefined;
  async create(o: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    this.calls.push(`create ${o.id}`);
    await this.createGate;
    const err = this.failCreate;
    this.failCreate = undefined;
    if (err) throw err;
    this.exitDirs.set(o.id, o.exitDir);
    // This test process stands in for the container and conmon: alive, as theirs would be.
    return { pid: process.pid, conmonPid: process.pid };
  }

  async start(_runtime: string, id: string): Promise<void> { this.calls.push(`start ${id}`); }
  async pause(_runtime: string, id: string): Promise<void> { this.calls.push(`pause ${id}`); }
  async resume(_runtime: string, id: string): Promise<void> { this.calls.push(`resume ${id}`); }
  /** While set, delete waits for it (a slow `crun delete`). */
  deleteGate: Promise<void> | undefined;
  async delete(_runtime: string, id: string): Promise<void> {
    this.calls.push(`delete ${id}`);
    await this.deleteGate;
  }

  async kill(_runtime: string, id: string, signal: string): Promise<void> {
    this.calls.push(`kill ${id} ${signal}`);
    if (!this.exitDirs.has(id)) throw new NotFoundError(`container ${id} does not exist`);
    if (!this.ignored.has(signal)) this.exit(id, 128 + Number(signal));
  }

  /** The container's process ends with `code`: its exit file appears, as conmon writes it. */
  exit(id: string, code: number): void {
    const dir = this.exitDirs.get(id);
    if (!dir) throw new Error(`container ${id} was never created`);
    this.exitDirs.delete(id);
    fs.writeFileSync(path.join(dir, id), String(code));
  }
}

/** Images by reference: each has a config with the given command. */
export class FakeImageLookup implements ImageLookup {
  private readonly images = new Map<string, ImageRef>();

  add(ref: string, cmd: string[], id = `sha256:${'ab'.repeat(32)}`): ImageRef {
    const image: ImageRef = { id, repoTags: [ref], config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: cmd } } };
    this.images.set(ref, image);
    this.images.set(id, image);
    return image;
  }

  async resolve(ref: string): Promise<ImageRef> {
    const image = this.images.get(ref) ?? this.images.get(`${ref}:latest`);
    if (!image) throw new NotFoundError(`No such image: ${ref}`);
    return image;
  }

  lowerDirs(image: ImageRef): string[] { return [`/layers/${image.id.slice(7, 19)}`]; }
  async commit(): Promise<string> { throw new Error('not in these tests'); }
  async changes(): Promise<{ Path: string; Kind: number }[]> { return []; }
  exportRootfs(): Readable { throw new Error('not in these tests'); }
}

/** Volumes that keep no data: what is attached is what was planned; releases are recorded. */
export class FakeContainerVolumes implements ContainerVolumes {
  readonly released: { containerId: string; removeAnonymous: boolean }[] = [];
  async attach(planned: PlannedMount[]): Promise<ContainerMount[]> { return planned.map(({ create: _create, ...m }) => m); }
  async release(containerId: string, _mounts: ContainerMount[], removeAnonymous: boolean): Promise<void> { this.released.push({ containerId, removeAnonymous }); }
  async mount(m: ContainerMount): Promise<string> { return m.source; }
  async unmount(): Promise<void> {}
  async populate(): Promise<void> {}
  async restore(): Promise<void> {}
}
