// Build arguments as the classic builder keeps them (moby's BuildArgs): --build-arg values, ARG declarations
// (global "meta" args before the first FROM, and per stage), which of them a stage may use, and which were used.

/**
 * Predefined args: usable without an ARG line, passed to RUN, but left out of the image's history unless the
 * Dockerfile declares them. SOURCE_DATE_EPOCH and BERTH_REPRODUCIBLE steer Berth's reproducible output.
 */
export const BUILTIN_ARGS = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

/** Args Berth reads itself: never reported as unused, never passed to RUN unless declared. */
export const BERTH_ARGS = new Set(['SOURCE_DATE_EPOCH', 'BERTH_REPRODUCIBLE']);

export class BuildArgs {
  /** Args this stage declared (with their defaults). */
  private allowed = new Map<string, string | undefined>();
  /** Args declared before the first FROM. */
  private readonly meta: Map<string, string | undefined>;
  /** Every arg any stage declared (shared between the stages of one build). */
  private readonly referenced: Set<string>;

  constructor(private readonly fromOptions: ReadonlyMap<string, string | null>, meta?: Map<string, string | undefined>, referenced?: Set<string>) {
    this.meta = meta ?? new Map();
    this.referenced = referenced ?? new Set();
  }

  /** A stage's own view: the meta args and the set of referenced args are shared, the allowed list starts empty. */
  forStage(): BuildArgs {
    return new BuildArgs(this.fromOptions, this.meta, this.referenced);
  }

  addMeta(key: string, value: string | undefined): void {
    this.meta.set(key, value);
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  /** A default the build provides (TARGETARCH...): usable in FROM and by `ARG NAME`, never reported as unused. */
  seedMeta(key: string, value: string): void {
    if (!this.meta.has(key)) this.meta.set(key, value);
  }

  add(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  /** The value of an arg: --build-arg first, then the declaration's default, then the meta arg's default. */
  private value(key: string, source: Map<string, string | undefined>): string | undefined {
    const opt = this.fromOptions.get(key);
    if (opt !== undefined && opt !== null) return opt;
    const declared = source.get(key);
    if (declared === undefined) return this.meta.get(key) ?? undefined;
    return declared;
  }

  private all(source: Map<string, string | undefined>): Map<string, string> {
    const out = new Map<string, string>();
    for (const key of [...source.keys(), ...BUILTIN_ARGS]) {
      if (out.has(key)) continue;
      if (!source.has(key) && !(BUILTIN_ARGS.has(key) && this.fromOptions.get(key) != null)) continue;
      const v = this.value(key, source);
      if (v !== undefined) out.set(key, v);
    }
    return out;
  }

  /** The args usable in this stage, with values. */
  allAllowed(): Map<string, string> { return this.all(this.allowed); }

  /** The meta args with values (for FROM lines). */
  allMeta(): Map<string, string> { return this.all(this.meta); }

  /** The usable args that no ENV of the stage overrides, as KEY=value (what RUN gets besides its env). */
  filterAllowed(env: readonly string[]): string[] {
    const keys = new Set(env.map((e) => e.split('=')[0]!));
    const out: string[] = [];
    for (const [k, v] of this.allAllowed()) if (!keys.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  /** Declared by the Dockerfile, or not one of the predefined proxy args (moby's IsReferencedOrNotBuiltin). */
  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ARGS.has(key);
  }

  /** A --build-arg value Berth reads itself (SOURCE_DATE_EPOCH...), whether or not the Dockerfile declares it. */
  option(key: string): string | undefined {
    return this.fromOptions.get(key) ?? undefined;
  }

  /** The --build-arg names no stage declared (sorted), for the "were not consumed" warning. */
  unused(): string[] {
    return [...this.fromOptions.keys()].filter((k) => !this.referenced.has(k) && !BUILTIN_ARGS.has(k) && !BERTH_ARGS.has(k)).sort();
  }
}

/**
 * The RUN command as the cache and the history see it: with build args in play, "|N K=v ..." before the command
 * (moby's prependEnvOnCmd), leaving out predefined args the Dockerfile did not declare.
 */
export function prependEnvOnCmd(args: BuildArgs, argEnv: readonly string[], cmd: readonly string[]): string[] {
  const env = argEnv.filter((e) => args.isReferencedOrNotBuiltin(e.split('=')[0]!)).sort();
  return [`|${env.length}`, ...env, ...cmd];
}
