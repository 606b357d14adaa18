// The classic builder's ports: what it needs of the image and container services and where its output goes,
// with the build's options and its typed errors. The engine implements them (engine/build-containers.ts,
// engine/image-commit.ts); the executor sees only these.
import type * as fs from 'node:fs';
import { BerthError } from '../errdefs';
import type { ContainerConfig, ContainerCreateBody, JsonMessage } from '../wire/docker';
import type { ImageConfig } from '../wire/oci';
import type { BuildCache } from './cache';
import type { WorkspaceMounter } from './workspace';

export interface BuildImage { id: string; config: ImageConfig }

/** One build step's commit (engine/image-commit.ts makes the image). */
export interface BuildStepCommit {
  /** The image the step ran on; null for `FROM scratch`. */
  parent: { id: string; config: ImageConfig } | null;
  /** The step's changes (an overlay upper dir); absent for a step that changes only the config. */
  upperDir?: string;
  /** The stage's config after the step: the new image's config. */
  config: ContainerConfig;
  /** The history line (Docker's "/bin/sh -c #(nop) ..." form). */
  createdBy: string;
  author?: string;
  /** The image's and the history entry's creation time (RFC 3339). */
  created: string;
  /** Seconds since the epoch: later mtimes in the layer tar are written as this. */
  clampMtime?: number;
  /** Entries of the upper dir to leave out of the layer (runtime mount-point stubs). */
  exclude?: (rel: string, st: fs.Stats) => boolean;
  /** OS and architecture of an image built FROM scratch. */
  platform?: { os: string; architecture: string; variant?: string };
}

/** What the builder needs of the image service. */
export interface BuildImageStore {
  resolve(refOrId: string): Promise<BuildImage>;
  has(refOrId: string): boolean;
  /** The image `id` was built or committed on ("" if none). */
  parentOf(id: string): string;
  lowerDirs(image: BuildImage): string[];
  commitBuildStep(o: BuildStepCommit): Promise<string>;
  tag(source: string, repo: string, tag: string): Promise<void>;
}

/** What the builder needs of the container service, for RUN. */
export interface BuildContainerEngine {
  create(body: ContainerCreateBody): Promise<{ Id: string; Warnings: string[] }>;
  start(id: string): Promise<unknown>;
  /** The container's output from its start until it exits. */
  output(id: string): AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Buffer }>;
  wait(id: string): Promise<{ StatusCode: number }>;
  /** Kills (if running) and removes. */
  remove(id: string): Promise<void>;
  upperDir(id: string): string;
}

/** Where the builder's text goes: Docker's JSON message stream, in the end. */
export interface BuildOutput {
  /** Text for the client's stdout (`{"stream": ...}`). */
  stream(text: string): void;
  /** The image ID of a finished stage (`{"aux": {"ID": ...}}`). */
  aux(id: string): void;
  /** A progress message (downloads, bootstrap). */
  progress(msg: JsonMessage): void;
}

export interface BuilderDeps {
  images: BuildImageStore;
  containers: BuildContainerEngine;
  mounter: WorkspaceMounter;
  cache: BuildCache;
  /** Scratch space on the data root's filesystem. */
  tmpDir: string;
  /** Makes a base image that is neither local nor pullable (Debian bootstrap); resolves to undefined when it cannot. */
  fetchBase?(ref: string, out: BuildOutput, signal: AbortSignal): Promise<string | undefined>;
  /** Told of each instruction a build runs (the metrics), when there is one. */
  meter?: BuildMeter;
}

/** What the metrics count of builds: each step by its instruction and how it went. */
export interface BuildMeter {
  step(instruction: string, outcome: 'cached' | 'built' | 'failed'): void;
}

export interface BuildOptions {
  dockerfile: string;
  tags: string[];
  buildArgs: Map<string, string | null>;
  target?: string;
  noCache: boolean;
  /**
   * --cache-from: when given, a cached step is used only if its image is one of these images or an ancestor of
   * one (moby's ImageCache with sources); names that are not local images are skipped.
   */
  cacheFrom?: string[];
  labels: Record<string, string>;
  /** Remove intermediate containers after a successful step (default); `forceRemove` also after a failed one. */
  remove: boolean;
  forceRemove: boolean;
  networkMode?: string;
  platform?: string;
  extraHosts: string[];
  shmSize?: number;
  memory?: number;
  memorySwap?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  cpuPeriod?: number;
  cpuQuota?: number;
  ulimits?: { Name: string; Soft: number; Hard: number }[];
}

/** A RUN that exited non-zero: Docker's message, and the exit code for the error's `code`. */
export class RunStepError extends BerthError {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

/** The client went away or cancelled. */
export class BuildCancelledError extends BerthError {
  constructor() {
    super('Build cancelled');
  }
}
