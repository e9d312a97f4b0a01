import type { ObjectStore } from './types';

/** A whole object's bytes (specs, part results, pieces, model files: objects read into memory anyway). */
export async function readObjectBytes(store: Pick<ObjectStore, 'get'>, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

export async function readObjectJson<T>(store: Pick<ObjectStore, 'get'>, key: string): Promise<T> {
  return JSON.parse((await readObjectBytes(store, key)).toString('utf8')) as T;
}
