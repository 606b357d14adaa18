// `build`, `pull` and `push` of the project's services: builds of those with build:, pulls of those with
// image: (a failure skipped with --ignore-pull-failures, as a warning), pushes of the images services name.
import type { ProjectContext } from './context';
import { reported } from './context';
import { selectServices } from './dependency-order';
import { buildService, forEachBounded, pullService } from './images';
import { serviceImage } from './naming';

export async function buildServices(ctx: ProjectContext, services: string[], options: { noCache: boolean; pull: boolean; quiet: boolean }): Promise<void> {
  const selected = selectServices(ctx.project, services, true, (m) => ctx.reporter.warn(m));
  for (const name of selected) {
    const s = ctx.project.services[name];
    if (s.build) await buildService(ctx, s, { noCache: options.noCache || undefined, pull: options.pull || undefined });
  }
}

export async function pullServices(ctx: ProjectContext, services: string[], options: { ignoreFailures: boolean; quiet: boolean }): Promise<void> {
  const selected = selectServices(ctx.project, services, true, (m) => ctx.reporter.warn(m));
  const seen = new Set<string>();
  const toPull = selected.filter((n) => {
    const s = ctx.project.services[n];
    // A service built here has nothing to pull (Compose skips it unless it also names a pullable image).
    if (!s.image || s.build || seen.has(s.image)) return false;
    seen.add(s.image);
    return true;
  });
  await forEachBounded(toPull, async (n) => {
    try { await pullService(ctx, ctx.project.services[n]); } catch (err) {
      if (!options.ignoreFailures) throw err;
      ctx.reporter.warn(`${n}: ${(err as Error).message}`);
    }
  }, ctx.parallelism);
}

export async function pushServices(ctx: ProjectContext, services: string[], options: { ignoreFailures: boolean }): Promise<void> {
  const selected = selectServices(ctx.project, services, true, (m) => ctx.reporter.warn(m));
  for (const n of selected) {
    const s = ctx.project.services[n];
    if (!s.image && !s.build) continue;
    const ref = serviceImage(ctx.project, s);
    try {
      await reported(ctx.reporter, { kind: 'Image', name: ref }, 'Pushing', 'Pushed', () => ctx.api.pushImage(ref));
    } catch (err) {
      if (!options.ignoreFailures) throw err;
      ctx.reporter.warn(`${n}: ${(err as Error).message}`);
    }
  }
}
