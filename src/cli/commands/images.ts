// Image verbs over the API: images (image ls), history, tag, rmi, image prune.
import { Command } from 'commander';
import type { HistoryItem, ImageSummary } from '../../wire/docker';
import { encodeFilters } from '../api-client';
import { BerthCommand, Cli, collect, describeError, StatusError } from '../command';
import { renderRows } from '../format/table';
import { ellipsis, humanSize, shortId, timeAgo } from '../../util/units';
import { confirm } from '../prompt';
import { parseReference } from '../reference';
import { goTimeString } from './ps';

export const IMAGE_HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT', Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

/** Docker's familiar name: docker.io/library/busybox → busybox. */
export function familiarName(repo: string): string {
  return repo.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

function splitRepoTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), ref.slice(at + 1)];
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, ''];
}

/** One row of `berth images`, as docker's formatter.imageContext. */
export class ImageRow {
  constructor(private readonly i: ImageSummary, readonly Repository: string, readonly Tag: string, readonly Digest: string,
    private readonly trunc: boolean, private readonly now = Date.now()) {}

  get ID(): string { return this.trunc ? shortId(this.i.Id) : this.i.Id; }
  get CreatedSince(): string { return this.i.Created > 0 ? timeAgo(this.i.Created, this.now) : 'N/A'; }
  get CreatedAt(): string { return goTimeString(new Date(this.i.Created * 1000)); }
  get Size(): string { return humanSize(this.i.Size, 3); }
  get Containers(): string { return this.i.Containers === -1 ? 'N/A' : String(this.i.Containers); }
  get SharedSize(): string { return this.i.SharedSize === -1 ? 'N/A' : humanSize(this.i.SharedSize, 3); }
  get UniqueSize(): string { return this.i.SharedSize === -1 ? 'N/A' : humanSize(this.i.Size - this.i.SharedSize, 3); }
  get VirtualSize(): string { return humanSize(this.i.VirtualSize ?? this.i.Size, 3); }
  Label(name: string): string { return this.i.Labels?.[name] ?? ''; }

  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize'] as const) out[k] = this[k];
    return out;
  }
}

/** Expands images into rows: one per repository:tag, digests joined in by repository, <none> for dangling. */
export function imageRows(images: ImageSummary[], trunc: boolean, now = Date.now()): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    const tags = new Map<string, string[]>();
    const digests = new Map<string, string[]>();
    for (const ref of img.RepoTags ?? []) {
      if (ref === '<none>:<none>') continue;
      const [repo, tag] = splitRepoTag(ref);
      const r = familiarName(repo);
      tags.set(r, [...(tags.get(r) ?? []), tag]);
    }
    for (const ref of img.RepoDigests ?? []) {
      if (ref === '<none>@<none>') continue;
      const [repo, digest] = splitRepoTag(ref);
      const r = familiarName(repo);
      digests.set(r, [...(digests.get(r) ?? []), digest]);
      if (!tags.has(r)) tags.set(r, []);
    }
    if (tags.size === 0) { rows.push(new ImageRow(img, '<none>', '<none>', '<none>', trunc, now)); continue; }
    for (const [repo, repoTags] of tags) {
      const digest = digests.get(repo)?.[0] ?? '<none>';
      if (repoTags.length === 0) rows.push(new ImageRow(img, repo, '<none>', digest, trunc, now));
      for (const tag of repoTags) rows.push(new ImageRow(img, repo, tag, digest, trunc, now));
    }
  }
  return rows;
}

interface ImagesFlags { all?: boolean; digests?: boolean; filter?: string[]; format?: string; trunc: boolean; quiet?: boolean; tree?: boolean }

export function imagesCommand(cli: Cli, name = 'images'): Command {
  return new BerthCommand(name)
    .description('List images')
    .argument('[repository]', 'REPOSITORY[:TAG]')
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('--digests', 'Show digests')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .action(async (repository: string | undefined, o: ImagesFlags) => {
      const filters = [...(o.filter ?? [])];
      if (repository) filters.push(`reference=${repository}`);
      const images = await cli.api.json<ImageSummary[]>('GET', '/images/json', {
        query: { all: o.all || undefined, filters: encodeFilters(filters), 'shared-size': /SharedSize|UniqueSize/.test(o.format ?? '') || undefined },
      });
      let rows = imageRows(images, o.trunc);
      if (o.quiet && !o.format) {
        const seen = new Set<string>();
        rows = rows.filter((r) => !seen.has(r.ID) && !!seen.add(r.ID));
      }
      const def = o.digests
        ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
        : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
      cli.out.write(renderRows(rows, { format: o.format ?? '', defaultFormat: def, headers: IMAGE_HEADERS, quiet: o.quiet }));
    });
}

class HistoryRow {
  constructor(private readonly h: HistoryItem, private readonly human: boolean, private readonly trunc: boolean) {}
  get ID(): string { return this.h.Id === '<missing>' || !this.h.Id ? '<missing>' : this.trunc ? shortId(this.h.Id) : this.h.Id; }
  get CreatedSince(): string { return this.human ? timeAgo(this.h.Created) : new Date(this.h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'); }
  get CreatedAt(): string { return new Date(this.h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'); }
  get CreatedBy(): string {
    const by = (this.h.CreatedBy ?? '').replace(/\t/g, ' ');
    return this.trunc ? ellipsis(by, 45) : by;
  }
  get Size(): string { return this.human ? humanSize(this.h.Size, 3) : String(this.h.Size); }
  get Comment(): string { return this.h.Comment ?? ''; }
  toJSON(): Record<string, string> {
    return { Comment: this.Comment, CreatedAt: this.CreatedAt, CreatedBy: this.CreatedBy, CreatedSince: this.CreatedSince, ID: this.ID, Size: this.Size };
  }
}

export function historyCommand(cli: Cli, name = 'history'): Command {
  return new BerthCommand(name)
    .description('Show the history of an image')
    .argument('<image>')
    .option('--format <format>', 'Format output using a custom template')
    .option('-H, --human <bool>', 'Print sizes and dates in human readable format', 'true')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .option('--platform <platform>', 'Show history for the given platform')
    .action(async (image: string, o: { format?: string; human: string; trunc: boolean; quiet?: boolean; platform?: string }) => {
      const items = await cli.api.json<HistoryItem[]>('GET', `/images/${encodeURIComponent(image)}/history`, { query: { platform: o.platform } });
      const rows = items.map((h) => new HistoryRow(h, o.human !== 'false', o.trunc));
      cli.out.write(renderRows(rows, {
        format: o.format ?? '',
        defaultFormat: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
        headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
        quiet: o.quiet,
      }));
    });
}

export function tagCommand(cli: Cli, name = 'tag'): Command {
  return new BerthCommand(name)
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG]')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(async (source: string, target: string) => {
      const t = parseReference(target);
      if (t.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
      await cli.api.call('POST', `/images/${encodeURIComponent(source)}/tag`, { query: { repo: t.repository, tag: t.tag ?? 'latest' } });
    });
}

export function rmiCommand(cli: Cli, name = 'rmi'): Command {
  return new BerthCommand(name)
    .description('Remove one or more images')
    .argument('<images...>')
    .option('-f, --force', 'Force removal of the image')
    .option('--no-prune', 'Do not delete untagged parents')
    .option('--platform <platform>', 'Remove only the given platform variant')
    .action(async (images: string[], o: { force?: boolean; prune: boolean; platform?: string }) => {
      let failed = false;
      for (const img of images) {
        try {
          const r = await cli.api.json<{ Untagged?: string; Deleted?: string }[]>('DELETE', `/images/${encodeURIComponent(img)}`, {
            query: { force: o.force || undefined, noprune: o.prune ? undefined : true, platforms: o.platform },
          });
          for (const d of r ?? []) {
            if (d.Untagged) cli.out.write(`Untagged: ${d.Untagged}\n`);
            if (d.Deleted) cli.out.write(`Deleted: ${d.Deleted}\n`);
          }
        } catch (err) {
          failed = true;
          cli.err.write(`${describeError(err)}\n`);
        }
      }
      if (failed) throw new StatusError(1);
    });
}

export function imagePruneCommand(cli: Cli, name = 'prune'): Command {
  return new BerthCommand(name)
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; filter?: string[]; force?: boolean }) => {
      const warning = o.all
        ? 'WARNING! This will remove all images without at least one container associated to them.'
        : 'WARNING! This will remove all dangling images.';
      if (!o.force && !(await confirm(cli, `${warning}\nAre you sure you want to continue?`))) return;
      const r = await pruneImages(cli, !!o.all, o.filter ?? []);
      printImagesDeleted(cli, r.ImagesDeleted);
      cli.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
    });
}

export interface ImagePruneReport { ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number }

export function pruneImages(cli: Cli, all: boolean, filters: string[]): Promise<ImagePruneReport> {
  return cli.api.json<ImagePruneReport>('POST', '/images/prune', {
    query: { filters: encodeFilters([...filters, `dangling=${all ? 'false' : 'true'}`]) },
  });
}

export function printImagesDeleted(cli: Cli, deleted: ImagePruneReport['ImagesDeleted']): void {
  if (!deleted?.length) return;
  cli.out.write('Deleted Images:\n');
  for (const d of deleted) {
    if (d.Untagged) cli.out.write(`untagged: ${d.Untagged}\n`);
    if (d.Deleted) cli.out.write(`deleted: ${d.Deleted}\n`);
  }
  cli.out.write('\n');
}

