// The accelerator a run asks for and the device report its trainer sends back: shared by the API (admission,
// GraphQL), the trainer API (validation of what a trainer reports) and the trainer (what it must prove at start).
// Pure TypeScript + zod, importing nothing from the project, so both sides of the wire can depend on it.
import { z } from 'zod';

export const ACCELERATORS = ['CPU', 'GPU'] as const;
export const AcceleratorSchema = z.enum(ACCELERATORS);
/** CPU: the trainer uses a CPU engine (native TensorFlow CPU, wasm, pure-JS cpu). GPU: a GPU engine or the run fails. */
export type Accelerator = z.infer<typeof AcceleratorSchema>;

/** One engine the trainer tried, in order, and why it was not taken. */
export const EngineAttemptSchema = z.object({
  backend: z.string().min(1).max(64),
  ok: z.boolean(),
  reason: z.string().max(2000).optional(),
});
export type EngineAttempt = z.infer<typeof EngineAttemptSchema>;

/** The small matmul the trainer runs on the chosen device before training, checked against a float64 reference. */
export const ProbeMatmulSchema = z.object({
  /** n of the n×n · n×n product. */
  size: z.number().int().min(1).max(8192),
  /** Wall time of the product on the device, read-back included (the first call also compiles kernels). */
  milliseconds: z.number().min(0),
  /** Largest |device − reference| over the product's entries. */
  maxAbsError: z.number().min(0),
});

/**
 * What the trainer proves at start and the gateway stores on the run (`runs.device`, `Run.device`). Memory is
 * null where neither the engine nor the driver tools report it (WebGPU exposes no memory size).
 */
export const DeviceReportSchema = z.object({
  accelerator: AcceleratorSchema,
  /** The TensorFlow.js backend now active: webgpu, tensorflow (native; on a GPU when accelerator is GPU), wasm, cpu. */
  backend: z.string().min(1).max(64),
  /** The package (and version) that provides it. */
  engine: z.string().min(1).max(128),
  /** Human-readable device name: the GPU adapter's description, or the CPU model. */
  device: z.string().min(1).max(256),
  vendor: z.string().max(128).nullable(),
  /** Device memory in bytes, and where the number came from (e.g. 'nvidia-smi', 'os.totalmem'). */
  memoryBytes: z.number().int().min(0).nullable(),
  memorySource: z.string().max(64).nullable(),
  /** The largest single buffer the engine allows (WebGPU adapter limit), where it says. */
  maxBufferBytes: z.number().int().min(0).nullable(),
  probe: ProbeMatmulSchema,
  tried: z.array(EngineAttemptSchema).max(16),
});
export type DeviceReport = z.infer<typeof DeviceReportSchema>;

/** Why a GPU run could not start on a GPU: every engine tried, and its reason. Never retried (same image, same fault). */
export function gpuUnavailableMessage(tried: readonly EngineAttempt[]): string {
  const why = tried.length ? tried.map((t) => `${t.backend}: ${t.reason ?? 'failed'}`).join('; ') : 'no GPU engine is configured';
  return `accelerator GPU was requested but no GPU engine could start on this trainer (${why}). The run does not fall back to a CPU engine; create it with accelerator CPU, or dispatch it to a GPU trainer image.`;
}
