// Rules shared by zip and tar: safe entry paths, which entries are skipped, and decoding an image or audio entry.
import { InputError } from '../errors';
import { imageKind } from '../image-decode';
import type { Example, ReadContext } from '../source';
import { decodeToLock, folderLabel } from './image';
import { wavClipExample } from './wav-clip';

/** Rejects absolute paths, drive letters and `..` segments (zip-slip), whatever the separator. */
export function checkEntryPath(name: string): void {
  const parts = name.split(/[\\/]/);
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) {
    throw new InputError('UNSAFE_PATH', `archive entry "${name}" has an absolute path`);
  }
  if (parts.includes('..')) throw new InputError('UNSAFE_PATH', `archive entry "${name}" escapes the archive with ".."`);
  if (name.includes('\0')) throw new InputError('UNSAFE_PATH', `archive entry name contains a NUL byte`);
}

/** OS metadata (macOS resource forks, dot files) is ignored rather than rejected. */
export function isIgnorableEntry(name: string): boolean {
  return name.split('/').some((p) => p === '__MACOSX' || (p.startsWith('.') && p !== '.' && p !== '..'));
}

const IMAGE_NAME = /\.(png|jpe?g)$/i;
const WAV_NAME = /\.wav$/i;

/** An image entry (IMAGE datasets) or a `.wav` clip (SEQUENCE datasets: audio, see wav-clip.ts). */
export async function entryToExample(name: string, bytes: Uint8Array, file: string, ctx: ReadContext): Promise<Example> {
  if (ctx.lock.shape.modality === 'SEQUENCE') {
    if (!WAV_NAME.test(name)) throw new InputError('WRONG_MODALITY', `archive entry "${name}" is not a .wav file. Sequence archives may hold only .wav audio clips`);
    return wavClipExample(bytes, name, { file, entry: name }, ctx);
  }
  if (!IMAGE_NAME.test(name) && imageKind(bytes) === null) {
    throw new InputError('WRONG_MODALITY', `archive entry "${name}" is not an image. Image archives may hold only .png and .jpg files`);
  }
  const pixels = await decodeToLock(bytes, ctx.lock, ctx);
  return { modality: 'IMAGE', pixels, label: folderLabel(name), at: { file, entry: name } };
}
