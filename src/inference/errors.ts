// Typed inference failures. The runtime never imports the gateway: callers map `code` to their own error codes
// (INVALID_INPUT / LIMIT_EXCEEDED / UNSUPPORTED → BAD_USER_INPUT, OVERLOADED → 503 + retry, MODEL_TOO_LARGE → INTERNAL).

export type InferenceErrorCode = 'INVALID_INPUT' | 'LIMIT_EXCEEDED' | 'OVERLOADED' | 'UNSUPPORTED' | 'MODEL_TOO_LARGE' | 'CLOSED';

export class InferenceError extends Error {
  constructor(
    readonly code: InferenceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InferenceError';
  }
}

export interface InputProblem {
  /** 0-based position of the input in the request. */
  index: number;
  message: string;
}

/**
 * One or more inputs of a request are unusable. `index` and `message` describe the first problem; `problems`
 * lists every one found, so a client can fix them all at once. The whole request is rejected before it reaches a
 * batch, so other callers are never affected.
 */
export class InferenceInputError extends InferenceError {
  readonly index: number;
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[]) {
    if (problems.length === 0) throw new Error('InferenceInputError needs at least one problem');
    const sorted = [...problems].sort((a, b) => a.index - b.index);
    super('INVALID_INPUT', sorted.map((p) => `input ${p.index}: ${p.message}`).join('; '));
    this.name = 'InferenceInputError';
    this.index = sorted[0].index;
    this.problems = sorted;
  }
}

/** A request exceeds a per-request limit (inputs, tokens, image bytes). */
export class InferenceLimitError extends InferenceError {
  constructor(
    readonly limit: string,
    readonly max: number,
    readonly actual: number,
    message: string,
  ) {
    super('LIMIT_EXCEEDED', message);
    this.name = 'InferenceLimitError';
  }
}

/** The model's queue is full; the caller should retry later (HTTP 503 / 429 with Retry-After). */
export class OverloadedError extends InferenceError {
  constructor(
    readonly modelVersionId: string,
    readonly queuedRows: number,
    readonly maxQueueRows: number,
  ) {
    super('OVERLOADED', `Model ${modelVersionId} is overloaded: ${queuedRows} rows queued (max ${maxQueueRows}); retry later.`);
    this.name = 'OverloadedError';
  }
}
