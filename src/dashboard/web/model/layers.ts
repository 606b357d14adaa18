// Images over their layers: a tree whose trunk is the layers images share (layer chains are prefixes of each other,
// as the seed talks draw them), what sharing saves, and what removing or pruning images would free.

/** What the tree needs of an image: its ID, names, and layer diff IDs bottom-up (RootFS.Layers). */
export interface ImageLayers {
  id: string;
  names: string[];
  layers: string[];
  /** Sizes of the layers, bottom-up, where known (from /images/{id}/history); same length as layers or empty. */
  layerSizes: number[];
}

export interface LayerNode {
  layer: string;
  size: number | undefined;
  /** Images whose top layer this is. */
  images: { id: string; names: string[] }[];
  /** How many images stand on this layer (itself shared when more than one). */
  users: number;
  children: LayerNode[];
}

/** The forest of layer chains: one root per distinct base layer, children sorted by layer. */
export function layerTree(images: readonly ImageLayers[]): LayerNode[] {
  const roots: LayerNode[] = [];
  for (const img of images) {
    let level = roots;
    let node: LayerNode | undefined;
    img.layers.forEach((layer, i) => {
      node = level.find((n) => n.layer === layer);
      if (!node) level.push((node = { layer, size: img.layerSizes[i], images: [], users: 0, children: [] }));
      node.users++;
      level = node.children;
    });
    node?.images.push({ id: img.id, names: img.names });
  }
  const sort = (nodes: LayerNode[]) => { nodes.sort((a, b) => b.users - a.users || a.layer.localeCompare(b.layer)); nodes.forEach((n) => sort(n.children)); };
  sort(roots);
  return roots;
}

/** What an image listing (GET /images/json?shared-size=1) says of one image. */
export interface ImageUsage {
  Id: string;
  Size: number;
  SharedSize: number;
  RepoTags?: string[] | null;
}

/** Every layer counted once per layer (sizes from the tree) against once per image: what sharing saves. */
export function sharingSavings(images: readonly ImageUsage[], tree: readonly LayerNode[]): { total: number; onDisk: number; saved: number } {
  const total = images.reduce((a, i) => a + Math.max(0, i.Size), 0);
  let saved = 0;
  const walk = (nodes: readonly LayerNode[]) => nodes.forEach((n) => { saved += (n.size ?? 0) * Math.max(0, n.users - 1); walk(n.children); });
  walk(tree);
  saved = Math.min(saved, total);
  return { total, onDisk: total - saved, saved };
}

/** What removing the image frees: its layers no other image uses (its size less its shared size). */
export function freedByRemoving(image: Pick<ImageUsage, 'Size' | 'SharedSize'>): number {
  return Math.max(0, image.Size - Math.max(0, image.SharedSize));
}

/** What `image prune` (dangling only, its default) would remove: untagged images no container uses, and their space. */
export function pruneCandidates(images: readonly ImageUsage[], usedImageIds: ReadonlySet<string>): { ids: string[]; freed: number } {
  const dangling = images.filter((i) => !usedImageIds.has(i.Id) && !(i.RepoTags ?? []).some((t) => t !== '<none>:<none>'));
  return { ids: dangling.map((i) => i.Id), freed: dangling.reduce((a, i) => a + freedByRemoving(i), 0) };
}

/** Layer sizes bottom-up from /images/{id}/history (newest first), for a RootFS of `layerCount` layers. */
export function layerSizesFromHistory(history: readonly { Size: number; CreatedBy?: string }[], layerCount: number): number[] {
  // History lists every step, empty ones (ENV, CMD...) too, and the API does not say which made a layer: take the
  // entries with bytes, oldest first; trust them only when they match the layers one to one.
  const sized = [...history].reverse().filter((h) => h.Size > 0).map((h) => h.Size);
  return sized.length === layerCount ? sized : [];
}
