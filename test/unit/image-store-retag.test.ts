// The image index's references: a new or moved tag is written at once; the same tag set again on the same image
// (a rebuild's -t with nothing changed) moves only its tag time, carried by the index's next write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContentStore } from '../../src/image/content-store';
import { ImageStore } from '../../src/image/image-store';
import { parseNormalizedNamed } from '../../src/wire/reference';
import { tempDir } from '../helpers/tmp';

const ID_A = `sha256:${'a'.repeat(64)}`;
const ID_B = `sha256:${'b'.repeat(64)}`;

test('re-tagging an image with the tag it has writes nothing until the next change; moving a tag writes', async () => {
  const store = new ImageStore(tempDir('berth-retag-'), {} as ContentStore);
  await store.init(() => true);
  const indexFile = path.join(store.dir, 'index.json');
  const onDisk = () => JSON.parse(fs.readFileSync(indexFile, 'utf8')) as { images: Record<string, { lastTagTime?: string }>; references: Record<string, string> };
  await store.add(ID_A, { rootfs: { type: 'layers', diff_ids: [] } } as never);
  await store.add(ID_B, { rootfs: { type: 'layers', diff_ids: [] } } as never);
  const ref = parseNormalizedNamed('app:1');

  assert.equal(await store.setReference(ref, ID_A, '2026-01-01T00:00:00.000Z'), undefined);
  assert.equal(onDisk().references['docker.io/library/app:1'], ID_A);
  assert.equal(onDisk().images[ID_A]!.lastTagTime, '2026-01-01T00:00:00.000Z');

  assert.equal(await store.setReference(ref, ID_A, '2026-01-02T00:00:00.000Z'), undefined);
  assert.equal(store.meta(ID_A).lastTagTime, '2026-01-02T00:00:00.000Z', 'inspect sees the new time at once');
  assert.equal(onDisk().images[ID_A]!.lastTagTime, '2026-01-01T00:00:00.000Z', 'not written by itself');
  await store.flushNow();
  assert.equal(onDisk().images[ID_A]!.lastTagTime, '2026-01-02T00:00:00.000Z', 'written by the next write (berthd stop flushes)');

  assert.equal(await store.setReference(ref, ID_B, '2026-01-03T00:00:00.000Z'), ID_A, 'the image it pointed at before');
  assert.equal(onDisk().references['docker.io/library/app:1'], ID_B);
});
