// Single .png / .jpg files. In an ImageFolder upload (`<label>/<file>`) the parent folder is the label.
import { readBounded } from '../bytes';
import { decodeImage, probeImage, type ImageShape } from '../image-decode';
import type { ShapeLock } from '../source';
import type { Example, ReadContext } from '../source';

/** ImageFolder rule: the immediate parent folder names the label; a file at the root is unlabeled. */
export function folderLabel(path: string): string | null {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return parts.length >= 2 ? parts[parts.length - 2]! : null;
}

/** Decodes to the declared shape; when the shape is open (local loading), the first image fixes it. */
export async function decodeToLock(bytes: Uint8Array, lock: ShapeLock, ctx: ReadContext): Promise<Uint8Array> {
  if (lock.imageOpen) {
    const p = await probeImage(bytes);
    lock.lockImage(p.height, p.width, p.channels);
  }
  return decodeImage(bytes, lock.shape as ImageShape, ctx.limits);
}

export async function* readImageFile(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  const bytes = await readBounded(source, ctx.limits.maxEntryBytes, 'image');
  const pixels = await decodeToLock(bytes, ctx.lock, ctx);
  yield { modality: 'IMAGE', pixels, label: folderLabel(file), at: { file } };
}
