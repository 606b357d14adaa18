// The images a project runs: pulled per pull policy or --pull, built when a service has build: (and its image
// is missing, or --build), tagged `<project>-<service>` unless image: names it; pushed and removed on demand.
import type { Service } from '../model';
import type { ProjectContext } from './context';
import { reported } from './context';
import { inDependencyOrder } from './dependency-order';
import { ComposeProjectError, serviceImage } from './naming';

export interface ImagePolicy {
  build: 'auto' | 'always' | 'never';
  pull: 'always' | 'missing' | 'never' | 'policy';
}

/** Runs `step` for each item, at most `parallelism` at once (a dependency graph without edges). */
export function forEachBounded(items: string[], step: (item: string) => Promise<void>, parallelism?: number): Promise<void> {
  return inDependencyOrder(new Map(items.map((i) => [i, []])), step, { parallelism });
}

export async function buildService(ctx: ProjectContext, service: Service, options: { noCache?: boolean; pull?: boolean } = {}): Promise<string> {
  const b = service.build;
  if (!b) throw new ComposeProjectError(`service "${service.name}" has no build section`);
  const ref = serviceImage(ctx.project, service);
  return reported(ctx.reporter, { kind: 'Service', name: service.name }, 'Building', 'Built', () => ctx.api.buildImage({
    context: b.context, dockerfile: b.dockerfile, dockerfileInline: b.dockerfile_inline, args: b.args, target: b.target,
    labels: b.labels, tags: [ref, ...(b.tags ?? [])], noCache: options.noCache ?? b.no_cache, pull: options.pull ?? b.pull,
    network: b.network, extraHosts: b.extra_hosts,
  }));
}

export function pullService(ctx: ProjectContext, service: Service): Promise<void> {
  const ref = serviceImage(ctx.project, service);
  return reported(ctx.reporter, { kind: 'Image', name: ref }, 'Pulling', 'Pulled', () => ctx.api.pullImage(ref));
}

/** Makes every selected service's image present; returns service → image ID (the com.docker.compose.image label). */
export async function ensureImages(ctx: ProjectContext, services: string[], policy: ImagePolicy): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  // Services share images (20 busybox services, one busybox): each reference is looked up once per phase.
  const before = new Map<string, Promise<string | undefined>>();
  const lookup = (cache: Map<string, Promise<string | undefined>>, ref: string) => {
    let p = cache.get(ref);
    if (!p) { p = ctx.api.imageId(ref); cache.set(ref, p); }
    return p;
  };
  const pulls = new Map<string, Promise<void>>();
  // Builds go one at a time (the daemon's builder is the bottleneck); pulls of one reference happen once.
  const toBuild: Service[] = [];
  await forEachBounded(services, async (name) => {
    const s = ctx.project.services[name];
    const ref = serviceImage(ctx.project, s);
    const present = await lookup(before, ref);
    if (s.build && policy.build !== 'never') {
      if (policy.build === 'always' || !present || s.pull_policy === 'build') { toBuild.push(s); return; }
    }
    const pullPolicy = policy.pull === 'policy' ? (s.pull_policy ?? 'missing') : policy.pull;
    const mustPull = pullPolicy === 'always' || ((pullPolicy === 'missing' || pullPolicy === 'if_not_present' || pullPolicy === 'build') && !present);
    if (mustPull && !(s.build && present)) {
      if (!s.image && s.build) throw new ComposeProjectError(`service "${name}" has no image and --no-build was given: image ${ref} is missing`);
      let p = pulls.get(ref);
      if (!p) { p = pullService(ctx, s); pulls.set(ref, p); }
      await p;
    } else if (!present) {
      throw new ComposeProjectError(`service "${name}": image ${ref} is missing and pull_policy is never`);
    }
  }, ctx.parallelism);
  for (const s of toBuild.sort((a, b) => (a.name < b.name ? -1 : 1))) await buildService(ctx, s);
  // A reference pulled or built may have a new ID; the others were looked up above already.
  const changed = new Set([...pulls.keys(), ...toBuild.map((s) => serviceImage(ctx.project, s))]);
  const after = new Map([...before].filter(([ref]) => !changed.has(ref)));
  const found = await Promise.all(services.map((name) => lookup(after, serviceImage(ctx.project, ctx.project.services[name]))));
  services.forEach((name, i) => {
    const id = found[i];
    if (!id) throw new ComposeProjectError(`service "${name}": image ${serviceImage(ctx.project, ctx.project.services[name])} not found after pull/build`);
    ids.set(name, id);
  });
  return ids;
}
