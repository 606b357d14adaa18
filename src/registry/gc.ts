// Registry garbage collection: mark every blob a kept manifest references (index children included), sweep the rest.
import { MediaTypes } from '../wire/oci';
import { detectMediaType } from './manifests';
import { isSha256Digest, isSha256Hex } from '../wire/digest';
import type { StorageDriver } from './storage-driver';
import { findRepositories, paths } from './store';

export interface GcOptions {
  /** Report what would go without deleting anything. */
  dryRun?: boolean;
  /** Also delete manifests no tag reaches (directly, through an index, or as a referrer of a kept one). */
  deleteUntagged?: boolean;
  /** Uploads started longer ago than this are abandoned and removed (default 7 days, as the reference registry). */
  uploadMaxAgeMs?: number;
  log?: (line: string) => void;
}

export interface GcReport {
  markedBlobs: number;
  deletedBlobs: string[];
  deletedManifests: string[];
  deletedUploads: number;
  freedBytes: number;
}


interface ManifestRefs { blobs: string[]; children: string[]; subject?: string }

function refsOf(body: Buffer): ManifestRefs {
  const out: ManifestRefs = { blobs: [], children: [] };
  try {
    const v = JSON.parse(body.toString('utf8')) as {
      config?: { digest?: string }; layers?: { digest?: string }[]; manifests?: { digest?: string }[]; subject?: { digest?: string };
    };
    const type = detectMediaType(body);
    if (type === MediaTypes.ociIndex || type === MediaTypes.dockerManifestList) {
      for (const m of v.manifests ?? []) if (typeof m?.digest === 'string') out.children.push(m.digest);
    } else {
      if (typeof v.config?.digest === 'string') out.blobs.push(v.config.digest);
      for (const l of v.layers ?? []) if (typeof l?.digest === 'string') out.blobs.push(l.digest);
    }
    if (typeof v.subject?.digest === 'string') out.subject = v.subject.digest;
  } catch {
    // Unparseable content references nothing.
  }
  return out;
}

/** Every directory under repositories/ that is a repository (holds _manifests, _layers or _uploads). */
function allRepositories(driver: StorageDriver): Promise<string[]> {
  return findRepositories(driver, (entries) => entries.some((n) => n === '_manifests' || n === '_layers' || n === '_uploads'));
}

/**
 * Mark and sweep over the storage. Run it while no server writes to the same storage (as with the
 * reference registry): a blob uploaded but not yet named by a manifest counts as garbage.
 */
export async function garbageCollect(driver: StorageDriver, opts: GcOptions = {}): Promise<GcReport> {
  const log = opts.log ?? (() => undefined);
  const dry = !!opts.dryRun;
  const maxAge = opts.uploadMaxAgeMs ?? 7 * 24 * 3600_000;
  const marked = new Set<string>();
  const report: GcReport = { markedBlobs: 0, deletedBlobs: [], deletedManifests: [], deletedUploads: 0, freedBytes: 0 };
  const repos = await allRepositories(driver);

  for (const repo of repos) {
    const revisions = (await driver.list(paths.revisionsDir(repo))).filter((h) => isSha256Hex(h)).map((h) => `sha256:${h}`);
    const bodies = new Map<string, ManifestRefs>();
    for (const d of revisions) {
      const body = await driver.getContent(paths.blobData(d));
      if (body) bodies.set(d, refsOf(body));
    }
    let keep = new Set(revisions);
    if (opts.deleteUntagged) {
      keep = new Set();
      const visit = (d: string) => {
        if (keep.has(d) || !bodies.has(d)) return;
        keep.add(d);
        for (const c of bodies.get(d)!.children) visit(c);
      };
      for (const tag of await driver.list(paths.tagsDir(repo))) {
        const cur = await driver.getContent(paths.tagCurrent(repo, tag));
        if (cur) visit(cur.toString('utf8').trim());
      }
      // Referrers (signatures, SBOMs) live as long as their subject.
      for (let grew = true; grew;) {
        grew = false;
        for (const [d, refs] of bodies) {
          if (!keep.has(d) && refs.subject && keep.has(refs.subject)) { visit(d); grew = true; }
        }
      }
      for (const d of revisions) {
        if (keep.has(d)) continue;
        log(`${repo}: manifest eligible for deletion: ${d}`);
        report.deletedManifests.push(`${repo}@${d}`);
        if (!dry) {
          const subject = bodies.get(d)?.subject;
          if (subject && isSha256Digest(subject)) await driver.delete(paths.referrer(repo, subject, d));
          await driver.delete(paths.revisionDir(repo, d));
        }
      }
    }
    const mark = (d: string, what: string) => {
      if (marked.has(d)) return;
      marked.add(d);
      log(`${repo}: marking ${what} ${d}`);
    };
    for (const d of keep) {
      mark(d, 'manifest');
      const refs = bodies.get(d);
      if (!refs) continue;
      for (const b of refs.blobs) mark(b, 'blob');
      // Children are revisions of this repository too; marked here as well in case one is missing its link.
      for (const c of refs.children) {
        mark(c, 'manifest');
        for (const b of bodies.get(c)?.blobs ?? []) mark(b, 'blob');
      }
    }
  }
  report.markedBlobs = marked.size;

  // Sweep.
  const deleted = new Set<string>();
  for (const prefix of await driver.list(paths.blobsRoot())) {
    for (const hex of await driver.list(`${paths.blobsRoot()}/${prefix}`)) {
      if (!isSha256Hex(hex)) continue;
      const d = `sha256:${hex}`;
      if (marked.has(d)) continue;
      const info = await driver.stat(paths.blobData(d));
      report.freedBytes += info?.size ?? 0;
      report.deletedBlobs.push(d);
      deleted.add(d);
      log(`blob eligible for deletion: ${d}`);
      if (!dry) await driver.delete(paths.blobDir(d));
    }
  }

  // Repository links to blobs that are gone, and abandoned uploads.
  const now = Date.now();
  for (const repo of repos) {
    if (!dry) {
      for (const hex of await driver.list(paths.layersDir(repo))) {
        const d = `sha256:${hex}`;
        if (isSha256Hex(hex) && (deleted.has(d) || !(await driver.stat(paths.blobData(d))))) await driver.delete(`${paths.layersDir(repo)}/${hex}`);
      }
    }
    for (const id of await driver.list(paths.uploadsDir(repo))) {
      const started = await driver.getContent(paths.uploadStarted(repo, id));
      const t = started ? Date.parse(started.toString('utf8')) : NaN;
      if (!Number.isNaN(t) && now - t <= maxAge) continue;
      report.deletedUploads++;
      log(`${repo}: upload eligible for deletion: ${id}`);
      if (!dry) await driver.delete(paths.upload(repo, id));
    }
  }
  log(`${report.markedBlobs} blobs marked, ${report.deletedBlobs.length} blobs and ${report.deletedManifests.length} manifests eligible for deletion`);
  return report;
}
