/** What an encoder emitter hands back: per-position output (with its mask) or an already pooled vector. */
export interface EncoderGraph {
  /** [B,T,D] tensor name. */
  sequence?: string;
  /** Float mask [B,T] tensor name, or null when every position is real. */
  mask: string | null;
  /** [B,D] tensor name (MLP pools internally). */
  pooled?: string;
}
