// `docker tag`: points a repository:tag reference at a local image.
import type { LocalImages } from '../image/local-images';
import { repoTagReference } from '../wire/reference';
import { publishImageEvent, type EventBus } from './events';

export class ImageTags {
  constructor(private readonly images: LocalImages, private readonly events: EventBus) {}

  async tag(source: string, repo: string, tag: string): Promise<void> {
    const ref = repoTagReference(repo, tag);
    await this.images.locked(async () => {
      const id = this.images.resolveId(source);
      await this.images.index.setReference(ref, id, new Date().toISOString());
      publishImageEvent(this.events, this.images, 'tag', id, ref.familiar());
    });
  }
}
