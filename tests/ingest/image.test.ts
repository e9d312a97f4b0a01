import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import type { ImageRow } from '../../src/ingest';
import { codes, fileOf, grey, idxImages, idxLabels, ingest, ingestFails, jpeg, png, tarball, zip } from './helpers';

const IMG = { modality: 'IMAGE', height: 8, width: 8, channels: 3 } as const;
const GREY = { modality: 'IMAGE', height: 4, width: 3, channels: 1 } as const;

describe('image formats', () => {
  test('.png and .jpg are decoded with sharp to the declared size and channels', async () => {
    const p = await png(16, 12, 1);
    const { rows, manifest } = await ingest([fileOf('a.png', p), fileOf('b.jpg', await jpeg(5, 5, 3))], IMG);
    expect(rows).toHaveLength(2);
    for (const r of rows as ImageRow[]) expect(r.pixels.length).toBe(8 * 8 * 3);
    const expected = await sharp(p).resize(8, 8, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
    expect(Buffer.from((rows[0] as ImageRow).pixels).equals(expected)).toBe(true);
    expect(manifest.shape).toEqual(IMG);
  });

  test('greyscale target from a colour PNG', async () => {
    const { rows } = await ingest([fileOf('a.png', await png(6, 6, 2))], GREY);
    expect((rows[0] as ImageRow).pixels.length).toBe(4 * 3);
  });

  test('ImageFolder layout inside a .zip: parent folder is the label; dirs, dot files and __MACOSX skipped', async () => {
    const archive = zip([
      { name: 'cat/', data: Buffer.alloc(0), store: true },
      { name: 'cat/1.png', data: await png(8, 8, 1) },
      { name: 'cat/2.png', data: await png(8, 8, 2), store: true },
      { name: 'dog/1.jpg', data: await jpeg(8, 8, 3) },
      { name: '__MACOSX/cat/._1.png', data: Buffer.from('junk') },
      { name: '.DS_Store', data: Buffer.from('junk') },
    ]);
    const { rows, manifest } = await ingest([fileOf('pets.zip', archive)], IMG);
    expect(rows.map((r) => r.label)).toEqual(['cat', 'cat', 'dog']);
    expect(manifest.labels).toEqual(['cat', 'dog']);
    expect(manifest.labelHistogram).toEqual({ cat: 2, dog: 1 });
  });

  test('.tar and .tar.gz ImageFolder archives', async () => {
    const entries = [
      { name: 'a', type: 'directory' as const },
      { name: 'a/x.png', data: await png(8, 8, 4) },
      { name: 'b/y.png', data: await png(8, 8, 5) },
      { name: 'z.png', data: await png(8, 8, 6) },
    ];
    const plain = await ingest([fileOf('d.tar', await tarball(entries))], IMG);
    expect(plain.rows.map((r) => r.label)).toEqual(['a', 'b', null]);
    const gz = await ingest([fileOf('d.tar.gz', await tarball(entries, true))], IMG);
    expect(gz.rows.map((r) => r.label)).toEqual(['a', 'b', null]);
    expect(gz.rows.map((r) => Buffer.from((r as ImageRow).pixels).toString('hex'))).toEqual(
      plain.rows.map((r) => Buffer.from((r as ImageRow).pixels).toString('hex')),
    );
  });

  test('IDX images + labels (plain and .gz) stream in lockstep; size differing from the declared one is resized', async () => {
    const imgs = [grey(3, 4, 1), grey(3, 4, 2), grey(3, 4, 3)];
    const files = [fileOf('train-images-idx3-ubyte.gz', gzipSync(idxImages(imgs, 4, 3))), fileOf('train-labels-idx1-ubyte', idxLabels([7, 0, 7]))];
    const { rows, manifest } = await ingest(files, GREY);
    expect(rows.map((r) => r.label)).toEqual(['7', '0', '7']);
    expect(rows.map((r) => Buffer.from((r as ImageRow).pixels).equals(imgs[r.index]!))).toEqual([true, true, true]);
    expect(manifest.labelHistogram).toEqual({ '0': 1, '7': 2 });
    expect(rows.every((r) => r.split === 'train')).toBe(true); // named train-*: the file fixes the split
    expect(manifest.splitRule.byFile).toEqual({ 'train-images-idx3-ubyte.gz': 'train', 'train-labels-idx1-ubyte': 'train' });

    const bigger = await ingest([fileOf('x-images-idx3-ubyte', idxImages(imgs, 4, 3))], { modality: 'IMAGE', height: 8, width: 6, channels: 3 });
    expect((bigger.rows[0] as ImageRow).pixels.length).toBe(8 * 6 * 3);
    expect(bigger.rows[0]!.label).toBeNull();
  });
});

describe('bad image input', () => {
  test('corrupt image bytes (valid signature, broken body) and a truncated PNG', async () => {
    const good = await png(8, 8, 1);
    const broken = Buffer.concat([good.subarray(0, 16), Buffer.alloc(64, 0x55)]);
    const e = await ingestFails([fileOf('ok.png', good), fileOf('bad.png', broken), fileOf('cut.png', good.subarray(0, good.length - 30))], IMG);
    expect(e.problems.map((p) => [p.file, p.code])).toEqual([
      ['bad.png', 'CORRUPT_IMAGE'],
      ['cut.png', 'CORRUPT_IMAGE'],
    ]);
  });

  test('text bytes named .png', async () => {
    const e = await ingestFails([fileOf('fake.png', 'hello world')], IMG);
    expect(e.problems[0]).toMatchObject({ file: 'fake.png', code: 'CORRUPT_IMAGE' });
  });

  test('wrong modality: text file in an image dataset; non-image entry in an archive', async () => {
    const e = await ingestFails([fileOf('notes.txt', 'hi'), fileOf('a.zip', zip([{ name: 'readme.txt', data: Buffer.from('hello') }]))], IMG);
    expect(e.problems.map((p) => [p.file, p.entry, p.code])).toEqual([
      ['notes.txt', undefined, 'WRONG_MODALITY'],
      ['a.zip', 'readme.txt', 'WRONG_MODALITY'],
    ]);
  });

  test('corrupt image inside a zip names the entry', async () => {
    const archive = zip([
      { name: 'a/1.png', data: await png(8, 8, 1) },
      { name: 'a/2.png', data: Buffer.concat([(await png(8, 8, 1)).subarray(0, 20), Buffer.alloc(40)]) },
    ]);
    const e = await ingestFails([fileOf('x.zip', archive)], IMG);
    expect(e.problems).toEqual([expect.objectContaining({ file: 'x.zip', entry: 'a/2.png', code: 'CORRUPT_IMAGE' })]);
  });

  test('zip bomb: total uncompressed limit across entries, counted while inflating', async () => {
    const archive = zip([
      { name: 'a/1.png', data: Buffer.alloc(700 * 1024) },
      { name: 'a/2.png', data: Buffer.alloc(700 * 1024) },
    ]);
    const e = await ingestFails([fileOf('bomb.zip', archive)], IMG, { maxUncompressedBytes: 2 ** 20, maxCompressionRatio: 1e6 });
    // The first entry fits the limit (and is then rejected as a non-image); the second crosses it.
    expect(e.problems.at(-1)).toMatchObject({ file: 'bomb.zip', entry: 'a/2.png', code: 'ARCHIVE_BOMB' });
    expect(e.problems.at(-1)!.message).toContain('maxUncompressedBytes');
  });

  test('zip entry whose header understates its size is rejected as soon as the stream exceeds it', async () => {
    const archive = zip([{ name: 'a/bomb.png', data: Buffer.alloc(4 * 2 ** 20), claimedSize: 100 }]);
    const e = await ingestFails([fileOf('liar.zip', archive)], IMG);
    expect(e.problems[0]).toMatchObject({ file: 'liar.zip', entry: 'a/bomb.png', code: 'CORRUPT_FILE' });
  });

  test('zip bomb: compression ratio limit', async () => {
    const archive = zip([{ name: 'a/bomb.png', data: Buffer.alloc(8 * 2 ** 20) }]);
    const e = await ingestFails([fileOf('bomb.zip', archive)], IMG, { maxCompressionRatio: 100, ratioGraceBytes: 2 ** 20 });
    expect(e.problems[0]).toMatchObject({ file: 'bomb.zip', code: 'ARCHIVE_BOMB' });
    expect(e.problems[0]!.message).toContain('maxCompressionRatio');
  });

  test('tar.gz bomb', async () => {
    const bomb = await tarball([{ name: 'a/big.png', data: Buffer.alloc(8 * 2 ** 20) }], true);
    const e = await ingestFails([fileOf('b.tar.gz', bomb)], IMG, { maxCompressionRatio: 100 });
    expect(e.problems[0]).toMatchObject({ file: 'b.tar.gz', code: 'ARCHIVE_BOMB' });
  });

  test('archive entries with .. or absolute paths (zip and tar)', async () => {
    const p = await png(8, 8, 1);
    const z = zip([
      { name: '../evil.png', data: p },
      { name: '/etc/abs.png', data: p },
      { name: 'ok/fine.png', data: p },
    ]);
    const t = await tarball([
      { name: 'a/../../evil.png', data: p },
      { name: 'ok.png', data: p },
    ]);
    const e = await ingestFails([fileOf('z.zip', z), fileOf('t.tar', t)], IMG);
    expect(e.problems.map((p2) => [p2.file, p2.entry, p2.code])).toEqual([
      ['z.zip', '../evil.png', 'UNSAFE_PATH'],
      ['z.zip', '/etc/abs.png', 'UNSAFE_PATH'],
      ['t.tar', 'a/../../evil.png', 'UNSAFE_PATH'],
    ]);
  });

  test('symlinks and hard links in tar, symlink in zip', async () => {
    const t = await tarball([
      { name: 'a/link.png', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'a/hard.png', type: 'link', linkname: 'a/link.png' },
      { name: 'a/ok.png', data: await png(8, 8, 1) },
    ]);
    const z = zip([{ name: 'a/l.png', data: Buffer.from('/etc/passwd'), store: true, mode: 0o120777 }]);
    const e = await ingestFails([fileOf('t.tar', t), fileOf('z.zip', z)], IMG);
    expect(e.problems.map((p) => [p.file, p.entry, p.code])).toEqual([
      ['t.tar', 'a/link.png', 'LINK_ENTRY'],
      ['t.tar', 'a/hard.png', 'LINK_ENTRY'],
      ['z.zip', 'a/l.png', 'LINK_ENTRY'],
    ]);
  });

  test('IDX: label count mismatch, truncated data, labels without images, bad magic', async () => {
    const imgs = [grey(3, 4, 1), grey(3, 4, 2)];
    const e = await ingestFails(
      [
        fileOf('a-images-idx3-ubyte', idxImages(imgs, 4, 3)),
        fileOf('a-labels-idx1-ubyte', idxLabels([1])),
        fileOf('b-images-idx3-ubyte', idxImages(imgs, 4, 3).subarray(0, 16 + 12 + 5)),
        fileOf('c-labels-idx1-ubyte', idxLabels([1, 2])),
        fileOf('d-images-idx3-ubyte', Buffer.from([0, 0, 8, 1, 0, 0, 0, 0])),
      ],
      GREY,
    );
    expect(e.problems.map((p) => [p.file, p.code])).toEqual([
      ['c-labels-idx1-ubyte', 'MISSING_FILE'],
      ['a-images-idx3-ubyte', 'CORRUPT_FILE'],
      ['b-images-idx3-ubyte', 'CORRUPT_FILE'],
      ['d-images-idx3-ubyte', 'CORRUPT_FILE'],
    ]);
    expect(e.problems[2]!.row).toBe(1);
  });

  test('corrupt zip and corrupt tar', async () => {
    const z = zip([{ name: 'a/1.png', data: await png(8, 8, 1) }]);
    const badZip = Buffer.concat([z.subarray(0, 40), Buffer.alloc(30, 7)]);
    const t = await tarball([{ name: 'a/1.png', data: await png(8, 8, 1) }]);
    const badTar = Buffer.from(t);
    badTar.fill(0x41, 100, 200); // scramble the header checksum region
    const e = await ingestFails([fileOf('z.zip', badZip), fileOf('t.tar', badTar)], IMG);
    expect(e.problems.map((p) => [p.file, p.code])).toEqual([
      ['z.zip', 'CORRUPT_FILE'],
      ['t.tar', 'CORRUPT_FILE'],
    ]);
  });

  test('empty archive', async () => {
    const e = await ingestFails([fileOf('e.tar', await tarball([]))], IMG);
    expect(codes(e)).toEqual(['EMPTY_FILE']);
  });
});
