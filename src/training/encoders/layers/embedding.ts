/**
 * Embedding lookup: ids int32 [B,T] → [B,T,D]. Param `<name>` [V,D] (normal, std 0.02 as BERT).
 * Note: the wasm backend lacks the UnsortedSegmentSum gradient kernel that gather's gradient uses; the training
 * engine registers it (see src/training/engine).
 */
import { tf } from '../../engine/tf';
import type { ParamStore } from '../params';

export function addEmbedding(store: ParamStore, name: string, rows: number, dim: number): void {
  store.add(name, [rows, dim], { kind: 'normal', std: 0.02 });
}

export function embed(store: ParamStore, name: string, ids: tf.Tensor): tf.Tensor {
  return tf.gather(store.get(name), tf.cast(ids, 'int32'));
}
