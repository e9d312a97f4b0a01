/** What every op-family emitter receives: the graph under construction and the weights to bake in. */
import type { GraphBuilder } from './graph';
import type { WeightReader } from './weights';

export interface ExportContext {
  g: GraphBuilder;
  w: WeightReader;
}
