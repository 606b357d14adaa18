// The classic builder's executor: a parsed Dockerfile run step by step on the engine. Each step yields an image
// (config-only steps included, as moby's classic builder does), found in the build cache or made: RUN in a real
// container whose upper directory becomes the layer, COPY/ADD/WORKDIR on an overlay of the parent's layers.
// Output is Docker's classic text ("Step 1/7 : ...", " ---> Running in ...", " ---> Using cache").
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError, NotFoundError, errorMessage } from '../errdefs';
import { hostArchitecture } from '../image/platform';
import { parseSignal } from '../wire/signals';
import { parsePortSpec } from '../wire/ports';
import { resolveInRoot } from '../host/rootfs';
import { truncateId, parseNormalizedNamed } from '../wire/reference';
import type { ContainerConfig, ContainerCreateBody, HealthConfig, HostConfig } from '../wire/docker';
import { formatGoDuration } from '../wire/durations';
import { BuildArgs, prependEnvOnCmd } from './args';
import { stepKey } from './cache';
import type { BuildContext } from './context';
import { containsWildcards, copyInto, hashSource, matchWildcard, normalizeDest, resolveChown, type Owner } from './copy';
import { parseDockerfile, parseInstruction, parseHeredocWord } from './dockerfile';
import { expandInstruction } from './expand';
import type { CommandForm, Dockerfile, Instruction, Stage } from './instructions';
import { validateDockerfile } from './validate';
import { download } from './download';
import { Workspace } from './workspace';
import { BuildCancelledError, RunStepError, type BuildImage, type BuildOptions, type BuildOutput, type BuilderDeps, type BuildStepCommit } from './builder-ports';
import { reproducibility, type Reproducibility } from './reproducibility';

/** The network RUN steps use unless the request names one: `docker run`'s default (the bridge), as moby's builder. */
export const DEFAULT_BUILD_NETWORK = 'default';

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

type Ins<K extends Instruction['kind']> = Extract<Instruction, { kind: K }>;

interface StageResult { imageId: string; config: ContainerConfig }

/** One stage's mutable state (moby's dispatchState). */
interface StageState {
  config: ContainerConfig;
  imageId: string;
  image: BuildImage | null;
  maintainer: string;
  cmdSet: boolean;
  args: BuildArgs;
  platform: { os: string; architecture: string; variant?: string };
}


export class Builder {
  constructor(private readonly deps: BuilderDeps) {}

  /** Runs a build; resolves to the final image ID (tags applied). */
  async build(ctx: BuildContext, opts: BuildOptions, out: BuildOutput, signal: AbortSignal): Promise<string> {
    const run = new BuildRun(this.deps, ctx, opts, out, signal);
    try {
      return await run.execute();
    } finally {
      await this.deps.cache.flush().catch(() => undefined);
    }
  }
}

/** One build: the state shared between its stages. */
class BuildRun {
  private readonly stages = new Map<string, StageResult>();
  private readonly flat: StageResult[] = [];
  private readonly repro: Reproducibility;
  private readonly hostPlatform = { os: 'linux', architecture: hostArchitecture() };
  private escape: '\\' | '`' = '\\';
  private readonly globalArgs: BuildArgs;
  /** With --cache-from: the images a cache hit may be (the sources and their ancestors). */
  private cacheSources?: Set<string>;
  /** Whether the step under way was taken from the cache (set by probe, for the metrics). */
  private stepCached = false;

  constructor(
    private readonly deps: BuilderDeps,
    private readonly ctx: BuildContext,
    private readonly opts: BuildOptions,
    private readonly out: BuildOutput,
    private readonly signal: AbortSignal,
  ) {
    this.globalArgs = new BuildArgs(opts.buildArgs);
    this.repro = reproducibility(opts.buildArgs);
    if (opts.platform) checkPlatform(opts.platform, this.hostPlatform.architecture);
  }

  async execute(): Promise<string> {
    if (this.opts.cacheFrom?.length) this.cacheSources = await this.sourcesOf(this.opts.cacheFrom);
    const df: Dockerfile = parseDockerfile(this.ctx.dockerfileText, { name: this.ctx.dockerfilePath });
    this.escape = df.escape;
    const plan = validateDockerfile(df, { target: this.opts.target });
    const stages = plan.stages.map((s) => ({ ...s, instructions: [...s.instructions] }));
    // --label becomes LABEL instructions at the end of the last stage, sorted (moby's buildLabelOptions).
    const last = stages[stages.length - 1]!;
    for (const key of Object.keys(this.opts.labels).sort()) {
      const value = this.opts.labels[key]!;
      last.instructions.push({ kind: 'LABEL', pairs: [[key, value]], original: `LABEL ${key}=${value}`, flags: { 'berth-no-expand': '' }, line: 0, endLine: 0 });
    }
    for (const w of df.warnings) this.out.stream(`[WARNING]: ${w}\n`);
    const total = df.globalArgs.length + stages.length + stages.reduce((n, s) => n + s.instructions.length, 0);
    let step = 1;
    const print = (text: string) => this.out.stream(`Step ${step++}/${total} : ${text}\n`);
    // Platform args BuildKit predefines, for FROM --platform=$BUILDPLATFORM and ARG TARGETARCH.
    const arch = this.hostPlatform.architecture;
    for (const [k, v] of Object.entries({ BUILDPLATFORM: `linux/${arch}`, BUILDOS: 'linux', BUILDARCH: arch, TARGETPLATFORM: `linux/${arch}`, TARGETOS: 'linux', TARGETARCH: arch })) {
      this.globalArgs.seedMeta(k, v);
    }
    for (const argIns of df.globalArgs) {
      print(argIns.original);
      const env = [...this.globalArgs.allMeta()].map(([k, v]) => `${k}=${v}`);
      const expanded = expandInstruction(argIns, env, this.escape);
      for (const a of expanded.args) this.globalArgs.addMeta(a.name, a.defaultValue);
    }
    let state: StageState | undefined;
    for (const stage of stages) {
      this.checkCancelled();
      print(stage.from.original);
      state = await this.metered('FROM', () => this.beginStage(stage));
      this.out.stream(` ---> ${truncateId(state.imageId)}\n`);
      for (const ins of stage.instructions) {
        this.checkCancelled();
        print(ins.original);
        await this.metered(ins.kind, () => this.dispatch(state!, ins));
        this.out.stream(` ---> ${truncateId(state.imageId)}\n`);
      }
      if (state.imageId) this.out.aux(state.imageId);
      const result = { imageId: state.imageId, config: state.config };
      if (stage.name) this.stages.set(stage.name, result);
      this.flat.push(result);
    }
    const unused = this.globalArgs.unused();
    if (unused.length) this.out.stream(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    const imageId = state?.imageId ?? '';
    if (!imageId) throw new InvalidParameterError('No image was generated. Is your Dockerfile empty?');
    this.out.stream(`Successfully built ${truncateId(imageId)}\n`);
    for (const t of this.opts.tags) {
      const ref = parseNormalizedNamed(t).withDefaultTag();
      await this.deps.images.tag(imageId, ref.nameOnly().toString(), ref.tag ?? 'latest');
      this.out.stream(`Successfully tagged ${ref.familiar()}\n`);
    }
    return imageId;
  }

  /** One step, counted by the metrics as it ends. */
  private async metered<T>(instruction: string, step: () => Promise<T>): Promise<T> {
    this.stepCached = false;
    try {
      const result = await step();
      this.deps.meter?.step(instruction, this.stepCached ? 'cached' : 'built');
      return result;
    } catch (err) {
      this.deps.meter?.step(instruction, 'failed');
      throw err;
    }
  }

  private checkCancelled(): void {
    if (this.signal.aborted) throw new BuildCancelledError();
  }

  // ---------- FROM ----------

  private async beginStage(stage: Stage): Promise<StageState> {
    const from = expandInstruction(stage.from, [...this.globalArgs.allMeta()].map(([k, v]) => `${k}=${v}`), this.escape);
    if (from.flags.platform) checkPlatform(from.flags.platform, this.hostPlatform.architecture);
    const name = from.image;
    if (!name) throw new InvalidParameterError(`base name (${stage.from.image}) should not be blank`);
    let image: BuildImage | null = null;
    const byStage = this.stages.get(name.toLowerCase());
    if (byStage) image = byStage.imageId ? await this.deps.images.resolve(byStage.imageId) : null;
    else if (name !== 'scratch') image = await this.baseImage(name);
    const config: ContainerConfig = image?.config.config ? structuredClone(image.config.config) : {};
    const env = config.Env ?? [];
    if (!env.some((e) => e.startsWith('PATH='))) config.Env = [...env, `PATH=${DEFAULT_PATH}`];
    config.OpenStdin = false;
    config.StdinOnce = false;
    const state: StageState = {
      config,
      imageId: image?.id ?? '',
      image,
      maintainer: '',
      cmdSet: false,
      args: this.globalArgs.forStage(),
      platform: image ? { os: image.config.os ?? 'linux', architecture: image.config.architecture ?? this.hostPlatform.architecture, ...(image.config.variant ? { variant: image.config.variant } : {}) } : this.hostPlatform,
    };
    const triggers = config.OnBuild ?? [];
    if (triggers.length) {
      config.OnBuild = null;
      this.out.stream(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const t of triggers) {
        const ins = parseInstruction(t, this.escape, stage.from.line);
        if (ins.kind === 'ONBUILD' || ins.kind === 'FROM' || ins.kind === 'MAINTAINER') {
          throw new InvalidParameterError(`${ins.kind} isn't allowed as an ONBUILD trigger`);
        }
        await this.dispatch(state, ins);
      }
    }
    return state;
  }

  /** A FROM or COPY --from image: local, else made by the bootstrapper, else the error a failed pull gives. */
  private async baseImage(name: string): Promise<BuildImage> {
    try {
      return await this.deps.images.resolve(name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    let ref;
    try {
      ref = parseNormalizedNamed(name).withDefaultTag();
    } catch {
      throw new InvalidParameterError(`invalid reference format: ${name}`);
    }
    const id = await this.deps.fetchBase?.(ref.toString(), this.out, this.signal);
    if (id) return this.deps.images.resolve(id);
    throw new NotFoundError(`pull access denied for ${ref.familiarName}, repository does not exist or may require 'docker login': registry pulls are not supported by Berth yet`);
  }

  // ---------- dispatch ----------

  /** The variables words are substituted with: the stage's ENV, then the build args ENV does not override. */
  private envOf(state: StageState): string[] {
    const env = state.config.Env ?? [];
    return [...env, ...state.args.filterAllowed(env)];
  }

  private async dispatch(state: StageState, raw: Instruction): Promise<void> {
    const noExpand = raw.flags['berth-no-expand'] !== undefined;
    const ins = noExpand ? raw : expandInstruction(raw, this.envOf(state), this.escape);
    const c = state.config;
    switch (ins.kind) {
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of ins.pairs) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        return this.commitConfig(state, `ENV ${ins.pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of ins.pairs) c.Labels[k] = v;
        return this.commitConfig(state, `LABEL ${ins.pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      case 'MAINTAINER':
        state.maintainer = ins.name;
        return this.commitConfig(state, `MAINTAINER ${ins.name}`);
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const m of ins.ports.flatMap(parsePortSpec)) ports[m.key] = {};
        c.ExposedPorts = ports;
        return this.commitConfig(state, `EXPOSE ${ins.ports.join(' ')}`);
      }
      case 'USER':
        c.User = ins.user;
        return this.commitConfig(state, `USER ${ins.user}`);
      case 'VOLUME': {
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of ins.paths) {
          if (!v) throw new InvalidParameterError('VOLUME specified can not be an empty string');
          c.Volumes[v] = {};
        }
        return this.commitConfig(state, `VOLUME [${ins.paths.join(' ')}]`);
      }
      case 'STOPSIGNAL':
        try {
          parseSignal(ins.signal);
        } catch (err) {
          throw new InvalidParameterError(errorMessage(err));
        }
        c.StopSignal = ins.signal;
        return this.commitConfig(state, `STOPSIGNAL ${ins.signal}`);
      case 'ARG': {
        for (const a of ins.args) state.args.add(a.name, a.defaultValue);
        return this.commitConfig(state, `ARG ${ins.args.map((a) => (a.defaultValue === undefined ? a.name : `${a.name}=${a.defaultValue}`)).join(' ')}`);
      }
      case 'SHELL':
        c.Shell = [...ins.args];
        return this.commitConfig(state, `SHELL [${ins.args.join(' ')}]`);
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), ins.trigger];
        return this.commitConfig(state, `ONBUILD ${ins.trigger}`);
      case 'CMD': {
        c.Cmd = this.commandLine(ins.command, c);
        if (commandLength(ins.command) > 0) state.cmdSet = true;
        return this.commitConfig(state, `CMD ${goQuoteList(c.Cmd)}`);
      }
      case 'ENTRYPOINT': {
        c.Entrypoint = this.commandLine(ins.command, c);
        if (!state.cmdSet) c.Cmd = null;
        return this.commitConfig(state, `ENTRYPOINT ${goQuoteList(c.Entrypoint)}`);
      }
      case 'HEALTHCHECK': {
        const old = c.Healthcheck?.Test;
        if (old?.length && old[0] !== 'NONE') this.out.stream(`Note: overriding previous HEALTHCHECK: [${old.join(' ')}]\n`);
        const hc: HealthConfig = ins.command === 'NONE'
          ? { Test: ['NONE'] }
          : {
            Test: ins.command.form === 'exec' ? ['CMD', ...ins.command.args] : ['CMD-SHELL', ins.command.command],
            ...(ins.interval ? { Interval: ins.interval } : {}),
            ...(ins.timeout ? { Timeout: ins.timeout } : {}),
            ...(ins.startPeriod ? { StartPeriod: ins.startPeriod } : {}),
            ...(ins.startInterval ? { StartInterval: ins.startInterval } : {}),
            ...(ins.retries ? { Retries: ins.retries } : {}),
          };
        c.Healthcheck = hc;
        return this.commitConfig(state, `HEALTHCHECK ${goHealthString(hc)}`);
      }
      case 'WORKDIR':
        return this.workdir(state, ins);
      case 'RUN':
        return this.run(state, ins);
      case 'COPY':
      case 'ADD':
        return this.copy(state, ins);
      case 'FROM':
        throw new InvalidParameterError('FROM is not allowed here');
    }
  }

  /** CMD/ENTRYPOINT/RUN argv: exec form as written, shell form behind the stage's SHELL (moby's resolveCmdLine). */
  private commandLine(cmd: CommandForm, c: ContainerConfig): string[] {
    if (cmd.form === 'exec') return [...cmd.args];
    if (cmd.command === '') return [];
    return [...shellOf(c), cmd.command];
  }

  // ---------- steps and the cache ----------

  private createdBy(state: StageState, comment: string, oneArg: boolean): string {
    // moby's withCmdComment (two arguments, so two spaces) and withCmdCommentString (WORKDIR, COPY, ADD).
    return [...shellOf(state.config), ...(oneArg ? [`#(nop) ${comment}`] : ['#(nop) ', comment])].join(' ');
  }

  /** The config the step's image gets: the stage's, pointing at the parent image as Docker's does. */
  private imageConfig(state: StageState): ContainerConfig {
    return { ...structuredClone(state.config), Image: state.imageId };
  }

  /** Looks the step up in the cache; on a hit the stage moves to the cached image and " ---> Using cache" is said. */
  private probe(state: StageState, key: string): boolean {
    if (this.opts.noCache) return false;
    const hit = this.deps.cache.lookup(key, (id) => this.deps.images.has(id));
    if (!hit || (this.cacheSources && !this.cacheSources.has(hit))) return false;
    this.out.stream(' ---> Using cache\n');
    this.stepCached = true;
    state.imageId = hit;
    state.image = null;
    return true;
  }

  /** The --cache-from images that exist here, with every ancestor of each. */
  private async sourcesOf(refs: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const ref of refs) {
      if (!this.deps.images.has(ref)) continue;
      for (let id = (await this.deps.images.resolve(ref)).id; id && !out.has(id); id = this.deps.images.parentOf(id)) out.add(id);
    }
    return out;
  }

  private keyOf(state: StageState, descriptor: Record<string, unknown>): string {
    return stepKey(state.imageId, { ...descriptor, config: state.config, author: state.maintainer, repro: this.repro, platform: state.platform });
  }

  private async parent(state: StageState): Promise<BuildImage | null> {
    if (!state.imageId) return null;
    if (!state.image || state.image.id !== state.imageId) state.image = await this.deps.images.resolve(state.imageId);
    return state.image;
  }

  private async commitStep(state: StageState, key: string, createdBy: string, upperDir?: string, exclude?: BuildStepCommit['exclude']): Promise<void> {
    const parent = await this.parent(state);
    const id = await this.deps.images.commitBuildStep({
      parent,
      ...(upperDir !== undefined ? { upperDir } : {}),
      config: this.imageConfig(state),
      createdBy,
      ...(state.maintainer ? { author: state.maintainer } : {}),
      created: this.repro.created,
      ...(this.repro.clamp !== undefined ? { clampMtime: this.repro.clamp } : {}),
      ...(exclude ? { exclude } : {}),
      platform: state.platform,
    });
    this.deps.cache.record(key, id, state.imageId, createdBy);
    state.imageId = id;
    state.image = null;
  }

  /** A step that changes only the config: a new image with an empty layer (moby's commit with a "#(nop)" Cmd). */
  private async commitConfig(state: StageState, comment: string): Promise<void> {
    const createdBy = this.createdBy(state, comment, false);
    const key = this.keyOf(state, { kind: 'config', createdBy });
    if (this.probe(state, key)) return;
    await this.commitStep(state, key, createdBy);
  }

  // ---------- WORKDIR ----------

  private async workdir(state: StageState, ins: Ins<'WORKDIR'>): Promise<void> {
    const c = state.config;
    c.WorkingDir = ins.path.startsWith('/') ? path.posix.normalize(ins.path) : path.posix.join('/', c.WorkingDir || '/', ins.path);
    if (c.WorkingDir.length > 1) c.WorkingDir = c.WorkingDir.replace(/\/+$/, '');
    const createdBy = this.createdBy(state, `WORKDIR ${c.WorkingDir}`, true);
    const key = this.keyOf(state, { kind: 'workdir', createdBy });
    if (this.probe(state, key)) return;
    const parent = await this.parent(state);
    const ws = await Workspace.open(this.deps.tmpDir, this.deps.mounter, parent ? this.deps.images.lowerDirs(parent) : []);
    try {
      const target = await resolveInRoot(ws.root, c.WorkingDir);
      const st = await fsp.stat(target).catch(() => undefined);
      if (st && !st.isDirectory()) throw new InvalidParameterError(`Cannot mkdir: ${c.WorkingDir} is not a directory`);
      if (!st) await fsp.mkdir(target, { recursive: true, mode: 0o755 });
      await ws.unmount();
      await this.commitStep(state, key, createdBy, ws.upperDir);
    } finally {
      await ws.close();
    }
  }

  // ---------- RUN ----------

  private async run(state: StageState, ins: Ins<'RUN'>): Promise<void> {
    for (const name of Object.keys(ins.flags)) {
      throw new InvalidParameterError(`the --${name} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
    }
    if (!state.imageId) throw new InvalidParameterError(`RUN needs a base image with a shell: FROM scratch has no /bin/sh`);
    const c = state.config;
    const { cmd, script } = this.runCommand(ins, c);
    const argEnv = state.args.filterAllowed(c.Env ?? []);
    const saveCmd = argEnv.length ? prependEnvOnCmd(state.args, argEnv, cmd) : cmd;
    const createdBy = saveCmd.join(' ');
    const key = this.keyOf(state, { kind: 'run', cmd: saveCmd, script: script ?? null });
    if (this.probe(state, key)) return;

    const hostConfig: HostConfig = {
      NetworkMode: this.opts.networkMode || DEFAULT_BUILD_NETWORK,
      LogConfig: { Type: 'json-file', Config: {} },
      ...(this.opts.extraHosts.length ? { ExtraHosts: this.opts.extraHosts } : {}),
      ...(this.opts.shmSize ? { ShmSize: this.opts.shmSize } : {}),
      ...(this.opts.memory ? { Memory: this.opts.memory } : {}),
      ...(this.opts.memorySwap ? { MemorySwap: this.opts.memorySwap } : {}),
      ...(this.opts.cpuShares ? { CpuShares: this.opts.cpuShares } : {}),
      ...(this.opts.cpusetCpus ? { CpusetCpus: this.opts.cpusetCpus } : {}),
      ...(this.opts.cpuPeriod ? { CpuPeriod: this.opts.cpuPeriod } : {}),
      ...(this.opts.cpuQuota ? { CpuQuota: this.opts.cpuQuota } : {}),
      ...(this.opts.ulimits?.length ? { Ulimits: this.opts.ulimits } : {}),
      ...(script ? { Tmpfs: { '/dev/pipes': 'rw,exec,mode=755' } } : {}),
    };
    const env = [...(c.Env ?? []), ...argEnv, ...(script ? [`BERTH_HEREDOC_SCRIPT=${script.content}`] : [])];
    const body: ContainerCreateBody = {
      Image: state.imageId,
      Cmd: cmd,
      ...(cmd.length ? { Entrypoint: [''] } : {}),
      Env: env,
      User: c.User ?? '',
      WorkingDir: c.WorkingDir ?? '',
      Healthcheck: { Test: ['NONE'] },
      Labels: c.Labels ?? {},
      HostConfig: hostConfig,
    };
    const { Id: id, Warnings: warnings } = await this.deps.containers.create(body);
    for (const w of warnings ?? []) this.out.stream(` ---> [Warning] ${w}\n`);
    this.out.stream(` ---> Running in ${truncateId(id)}\n`);
    let ok = false;
    // A cancelled build removes its step container at once (a sleeping step may never end by itself); the cleanup
    // below then awaits that same removal rather than racing a second one, and tries again only if it failed.
    let abortRemoval: Promise<boolean> | undefined;
    const onAbort = () => { abortRemoval = this.deps.containers.remove(id).then(() => true, () => false); };
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.checkCancelled();
      await this.deps.containers.start(id);
      for await (const chunk of this.deps.containers.output(id)) {
        const text = chunk.data.toString('utf8');
        this.out.stream(chunk.stream === 'stderr' ? `\x1b[91m${text}\x1b[0m` : text);
      }
      const { StatusCode: code } = await this.deps.containers.wait(id);
      this.checkCancelled();
      if (code !== 0) throw new RunStepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
      const upper = this.deps.containers.upperDir(id);
      const stubs = await runtimeStubs(upper);
      await this.commitStep(state, key, createdBy, upper, stubs.size ? (rel) => stubs.has(rel) : undefined);
      ok = true;
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      const removedOnAbort = abortRemoval ? await abortRemoval : false;
      if (!removedOnAbort && (this.signal.aborted || this.opts.forceRemove || (ok && this.opts.remove))) {
        await this.deps.containers.remove(id).then(
          () => { if (!this.signal.aborted) this.out.stream(` ---> Removed intermediate container ${truncateId(id)}\n`); },
          (err) => { if (!this.signal.aborted) this.out.stream(`Removing intermediate container ${truncateId(id)}: ${errorMessage(err)}\n`); },
        );
      }
    }
  }

  /**
   * The argv of a RUN, heredocs included as BuildKit runs them: a lone `<<EOF` runs its body with the shell (or,
   * when the body starts with "#!", as a script file: written to a tmpfs at /dev/pipes by the shell, then run);
   * heredocs within a longer command are given back to the shell, which reads them itself.
   */
  private runCommand(ins: Ins<'RUN'>, c: ContainerConfig): { cmd: string[]; script?: { name: string; content: string } } {
    const command = ins.command;
    if (command.form === 'exec' || ins.heredocs.length === 0) return { cmd: this.commandLine(command, c) };
    const first = ins.heredocs[0]!;
    const lone = parseHeredocWord(command.command.trim());
    if (lone && ins.heredocs.length === 1) {
      if (first.content.startsWith('#!')) {
        const file = `/dev/pipes/${first.name}`;
        const wrapper = `printf '%s' "$BERTH_HEREDOC_SCRIPT" > ${file} && chmod 755 ${file} && unset BERTH_HEREDOC_SCRIPT && exec ${file}`;
        return { cmd: [...shellOf(c), wrapper], script: { name: first.name, content: first.content } };
      }
      return { cmd: [...shellOf(c), first.content] };
    }
    let full = command.command;
    for (const h of ins.heredocs) full += `\n${h.content}${h.name}`;
    return { cmd: [...shellOf(c), full] };
  }

  // ---------- COPY / ADD ----------

  private async copy(state: StageState, ins: Ins<'COPY' | 'ADD'>): Promise<void> {
    const isAdd = ins.kind === 'ADD';
    const flags = ins.flags;
    const name = ins.kind;
    let chmod: number | undefined;
    if (flags.chmod) {
      if (!/^[0-7]{3,4}$/.test(flags.chmod)) throw new InvalidParameterError(`invalid chmod parameter: '${flags.chmod}'. it should be octal string and between 0 and 07777`);
      chmod = parseInt(flags.chmod, 8);
    }
    const link = flags.link !== undefined && flags.link !== 'false';
    const scratch = path.join(this.deps.tmpDir, `sources-${randomBytes(8).toString('hex')}`);
    const cleanups: (() => Promise<void>)[] = [async () => { await fsp.rm(scratch, { recursive: true, force: true }); }];
    try {
      // Where the sources come from: another stage or image (--from), else the context; URLs and heredocs aside.
      let fromRoot: string | undefined;
      let fromId = '';
      if (!isAdd && flags.from) {
        const src = await this.fromSource(flags.from);
        fromId = src.id;
        const ws = await Workspace.open(this.deps.tmpDir, this.deps.mounter, src.image ? this.deps.images.lowerDirs(src.image) : []);
        cleanups.push(() => ws.close());
        fromRoot = ws.root;
      }
      const sources: { abs: string; name: string; unpack: boolean; hash: string }[] = [];
      const hashOpts = {
        ownership: fromRoot !== undefined && !flags.chown,
        mtime: (st: fs.Stats) => this.clampTime(st),
        ...(fromRoot === undefined ? { knownDigest: (abs: string, st: fs.Stats) => this.ctx.knownDigest(abs, st) } : {}),
      };
      for (const h of ins.heredocs) {
        await fsp.mkdir(scratch, { recursive: true });
        const file = path.join(scratch, `heredoc-${sources.length}`, h.name);
        await fsp.mkdir(path.dirname(file), { recursive: true });
        await fsp.writeFile(file, h.content, { mode: 0o644 });
        await fsp.utimes(file, 0, 0);
        sources.push({ abs: file, name: h.name, unpack: false, hash: await hashSource(file, hashOpts) });
      }
      for (const raw of ins.sources) {
        if (isAdd && /^https?:\/\//i.test(raw)) {
          await fsp.mkdir(scratch, { recursive: true });
          const dl = await download(raw, path.join(scratch, `url-${sources.length}`), ins.dest.endsWith('/'), this.out, this.signal);
          if (flags.checksum && flags.checksum !== dl.digest) throw new InvalidParameterError(`${name} failed: digest mismatch for ${raw}: expected ${flags.checksum}, got ${dl.digest}`);
          sources.push({ abs: dl.file, name: dl.name, unpack: false, hash: await hashSource(dl.file, hashOpts) });
          continue;
        }
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) || raw.startsWith('git@')) {
          throw new InvalidParameterError(isAdd ? `${name} failed: unsupported source ${raw}: only http and https URLs can be fetched` : `${name} failed: source can't be a URL for COPY`);
        }
        const root = fromRoot ?? this.ctx.root;
        const rel = raw.replace(/^\/+/, '').replace(/^(\.\/)+/, '');
        const matched = containsWildcards(rel) ? await matchWildcard(root, rel) : [rel];
        for (const m of matched) {
          let abs: string;
          if (fromRoot === undefined) abs = await this.ctx.resolve(m).catch((err: unknown) => { throw new InvalidParameterError(`${name} failed: ${errorMessage(err)}`); });
          else abs = await resolveInRoot(fromRoot, m);
          const st = await fsp.stat(abs).catch(() => undefined);
          if (!st) {
            throw new InvalidParameterError(fromRoot === undefined
              ? `${name} failed: file not found in build context or excluded by .dockerignore: stat ${m}: file does not exist`
              : `${name} failed: stat ${m}: file does not exist`);
          }
          const hash = fromRoot === undefined
            ? await this.ctx.sourceHash(abs, `clamp=${this.repro.clamp ?? ''}`, () => hashSource(abs, hashOpts))
            : await hashSource(abs, hashOpts);
          sources.push({ abs, name: m || '.', unpack: isAdd, hash });
        }
      }
      if (sources.length === 0) throw new InvalidParameterError(`${name} failed: no source files were specified`);
      if (sources.length > 1 && !ins.dest.endsWith('/')) {
        throw new InvalidParameterError(`When using ${name} with more than one source file, the destination must be a directory and end with a /`);
      }
      const srcHash = sources.length === 1 ? sources[0]!.hash : `multi:${sha256Hex(sources.map((s) => s.hash).join(','))}`;
      const dest = normalizeDest(state.config.WorkingDir ?? '', ins.dest);
      const chownComment = flags.chown ? `--chown=${flags.chown} ` : '';
      const createdBy = this.createdBy(state, `${name} ${chownComment}${srcHash} in ${ins.dest} `, true);
      const key = this.keyOf(state, { kind: 'copy', createdBy, dest, chmod: chmod ?? null, link, from: fromId });
      if (this.probe(state, key)) return;

      const parent = await this.parent(state);
      const lowers = parent ? this.deps.images.lowerDirs(parent) : [];
      const ws = await Workspace.open(this.deps.tmpDir, this.deps.mounter, lowers, link);
      cleanups.push(() => ws.close());
      let owner: Owner | undefined = fromRoot === undefined ? { uid: 0, gid: 0 } : undefined;
      if (flags.chown) {
        // Names are looked up in the stage's own /etc/passwd and /etc/group (with --link, the parent's view).
        let lookupRoot = ws.root;
        if (link && lowers.length) {
          const view = await Workspace.open(this.deps.tmpDir, this.deps.mounter, lowers);
          cleanups.push(() => view.close());
          lookupRoot = view.root;
        }
        owner = await resolveChown(flags.chown, lookupRoot);
      }
      for (const s of sources) {
        await copyInto(ws.root, { src: s.abs, name: path.posix.basename(s.name), dest, unpackArchive: s.unpack }, { owner, chmod });
      }
      await ws.unmount();
      await this.commitStep(state, key, createdBy, ws.upperDir);
    } finally {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    }
  }

  /** COPY --from: a stage by name or index, else an image. */
  private async fromSource(from: string): Promise<{ id: string; image: BuildImage | null }> {
    let result = this.stages.get(from.toLowerCase());
    if (!result && /^\d+$/.test(from)) {
      const i = Number(from);
      if (i >= this.flat.length) throw new InvalidParameterError(`invalid from flag value ${from}: ${i === this.flat.length ? 'refers to current build stage' : 'index out of bounds'}`);
      result = this.flat[i];
    }
    if (result) return { id: result.imageId, image: result.imageId ? await this.deps.images.resolve(result.imageId) : null };
    try {
      const image = await this.baseImage(from);
      return { id: image.id, image };
    } catch (err) {
      throw new InvalidParameterError(`invalid from flag value ${from}: ${errorMessage(err)}`);
    }
  }

  private clampTime(st: fs.Stats): number {
    const secs = Math.floor(st.mtimeMs / 1000);
    return this.repro.clamp !== undefined ? Math.min(secs, this.repro.clamp) : secs;
  }
}

// ---------- helpers ----------

function shellOf(c: ContainerConfig): string[] {
  return c.Shell?.length ? [...c.Shell] : [...DEFAULT_SHELL];
}

function commandLength(cmd: CommandForm): number {
  return cmd.form === 'exec' ? cmd.args.length : cmd.command === '' ? 0 : 1;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Accepts the host's platform only ("linux", "linux/amd64", "amd64", "linux/amd64/v2"). */
function checkPlatform(spec: string, arch: string): void {
  const parts = spec.toLowerCase().split('/');
  const os = parts.length === 1 && parts[0] !== 'linux' ? 'linux' : parts[0];
  const a = parts.length === 1 ? (parts[0] === 'linux' ? arch : parts[0]) : parts[1];
  const norm = (x: string | undefined) => (x === 'x86_64' || x === 'x86-64' ? 'amd64' : x === 'aarch64' ? 'arm64' : x);
  if (os !== 'linux' || norm(a) !== arch) {
    throw new InvalidParameterError(`platform ${spec} is not supported: Berth builds for linux/${arch} only`);
  }
}

/** Go's %q of a []string: ["a" "b"]. */
function goQuoteList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** moby's "HEALTHCHECK %+v" of the health config. */
function goHealthString(h: HealthConfig): string {
  return `&{Test:[${(h.Test ?? []).join(' ')}] Interval:${formatGoDuration(h.Interval ?? 0)} Timeout:${formatGoDuration(h.Timeout ?? 0)} StartPeriod:${formatGoDuration(h.StartPeriod ?? 0)} StartInterval:${formatGoDuration(h.StartInterval ?? 0)} Retries:${h.Retries ?? 0}}`;
}

/**
 * Mount points the runtime created in the upper directory because the image lacked them (crun makes /proc, /dev,
 * /sys, /etc/hosts...): Docker keeps these in an init layer below the container's, so they never reach a build layer.
 */
async function runtimeStubs(upper: string): Promise<Set<string>> {
  const out = new Set<string>();
  const files = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', '.dockerenv'];
  const dirs = ['proc', 'sys', 'dev', 'dev/pipes'];
  for (const f of files) {
    const st = await fsp.lstat(path.join(upper, f)).catch(() => undefined);
    if (st?.isFile() && st.size === 0) out.add(f);
  }
  for (const d of dirs) {
    const abs = path.join(upper, d);
    const st = await fsp.lstat(abs).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    const names = await fsp.readdir(abs).catch(() => ['?']);
    if (names.every((n) => dirs.includes(`${d}/${n}`))) out.add(d);
  }
  return out;
}
