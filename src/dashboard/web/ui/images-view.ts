// Images: sizes, what shared layers save, the tree of images over their shared layers, and removal and prune with
// what they free shown before they run. Refetched on image events.
import { html } from 'htm/preact';
import type { HistoryItem, ImageSummary } from '../../../wire/docker';
import { bytes, shortId } from '../model/format';
import { freedByRemoving, layerSizesFromHistory, layerTree, pruneCandidates, sharingSavings, type ImageLayers, type LayerNode } from '../model/layers';
import { call, getJson } from './api';
import { confirmAction, showNotice } from './confirm';
import { live, useListing } from './live';

interface Loaded {
  images: ImageSummary[];
  layers: ImageLayers[];
}

const names = (i: ImageSummary) => (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');

async function loadLayers(images: ImageSummary[]): Promise<ImageLayers[]> {
  const out: ImageLayers[] = [];
  // A few at a time: a host with hundreds of images should not open hundreds of requests at once.
  for (let i = 0; i < images.length; i += 6) {
    out.push(...await Promise.all(images.slice(i, i + 6).map(async (img) => {
      const [inspect, history] = await Promise.all([
        // An image removed since the list was read has no layers to show; its removal's event reloads the view.
        getJson<{ RootFS?: { Layers?: string[] } }>(`/images/${encodeURIComponent(img.Id)}/json`).catch(() => ({ RootFS: { Layers: [] } })),
        getJson<HistoryItem[]>(`/images/${encodeURIComponent(img.Id)}/history`).catch(() => [] as HistoryItem[]),
      ]);
      const layers = inspect.RootFS?.Layers ?? [];
      return { id: img.Id, names: names(img), layers, layerSizes: layerSizesFromHistory(history, layers.length) };
    })));
  }
  return out;
}

function Tree({ nodes }: { nodes: LayerNode[] }) {
  return html`<ul class="layer-tree">${nodes.map((n) => html`<li>
    <span class=${n.users > 1 ? 'layer shared' : 'layer'} title=${n.layer}>${shortId(n.layer.replace(/^sha256:/, ''))}</span>
    ${n.size !== undefined && html` <span class="muted">${bytes(n.size)}</span>`}
    ${n.users > 1 && html` <span class="badge">shared by ${n.users}</span>`}
    ${n.images.map((i) => html` <span class="image-tag">${i.names.join(', ') || shortId(i.id.replace(/^sha256:/, ''))}</span>`)}
    ${n.children.length > 0 && html`<${Tree} nodes=${n.children} />`}
  </li>`)}</ul>`;
}

/** The images with each one's layers: what the view shows. */
async function loadImages(): Promise<Loaded> {
  const images = await getJson<ImageSummary[]>('/images/json?shared-size=1');
  return { images, layers: await loadLayers(images) };
}

export function ImagesView() {
  const { data, error, reload } = useListing(loadImages, 'image');
  if (!data) return html`<section class="view">${error ? html`<p class="error">${error}</p>` : html`<p class="muted">Loading…</p>`}</section>`;
  const tree = layerTree(data.layers);
  const savings = sharingSavings(data.images, tree);
  const users = new Map<string, number>();
  for (const c of live.containers) users.set(c.ImageID, (users.get(c.ImageID) ?? 0) + 1);
  const remove = async (img: ImageSummary) => {
    const label = names(img).join(', ') || shortId(img.Id.replace(/^sha256:/, ''));
    if (!(await confirmAction(`Remove ${label}?`, [`Frees ${bytes(freedByRemoving(img))} (its layers no other image uses).`], 'remove'))) return;
    try { await call('DELETE', `/images/${encodeURIComponent(img.Id)}`); } catch (err) { showNotice(`remove ${label}: ${err instanceof Error ? err.message : String(err)}`); }
    reload();
  };
  const prune = async () => {
    const { ids, freed } = pruneCandidates(data.images, new Set(users.keys()));
    const details = ids.length ? [`${ids.length} dangling image(s): ${ids.map((i) => shortId(i.replace(/^sha256:/, ''))).join(', ')}`, `Frees about ${bytes(freed)}.`] : ['No dangling images: nothing to free.'];
    if (!(await confirmAction('Prune dangling images?', details, 'prune'))) return;
    try {
      const r = (await call('POST', '/images/prune')) as { SpaceReclaimed?: number } | undefined;
      showNotice(`Pruned: ${bytes(r?.SpaceReclaimed ?? 0)} reclaimed.`);
    } catch (err) { showNotice(`prune: ${err instanceof Error ? err.message : String(err)}`); }
    reload();
  };
  return html`<section class="view images">
    <div class="toolbar">
      <span>${data.images.length} images: ${bytes(savings.total)} in all, ${bytes(savings.onDisk)} on disk — shared layers save <strong data-testid="shared-savings">${bytes(savings.saved)}</strong></span>
      <button class="danger" data-testid="images-prune" onClick=${prune}>Prune…</button>
    </div>
    <table class="list"><thead><tr><th>Tags</th><th>ID</th><th>Size</th><th>Shared</th><th>Containers</th><th></th></tr></thead><tbody>
      ${data.images.map((img) => {
        return html`<tr data-testid="image-row" data-id=${img.Id}>
          <td>${names(img).join(', ') || html`<span class="muted">&lt;none&gt;</span>`}</td><td class="mono">${shortId(img.Id.replace(/^sha256:/, ''))}</td>
          <td>${bytes(img.Size)}</td><td>${img.SharedSize >= 0 ? bytes(img.SharedSize) : '–'}</td><td>${users.get(img.Id) ?? 0}</td>
          <td><button class="act danger" data-testid="image-remove" onClick=${() => void remove(img)}>remove</button></td></tr>`;
      })}
    </tbody></table>
    <h3>Images over their layers</h3>
    <p class="muted">Each image stands on the chain of layers above it; branches show where images share a base.</p>
    <${Tree} nodes=${tree} />
  </section>`;
}
