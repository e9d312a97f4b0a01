// Small helpers shared by the format readers.
import { InputError } from '../errors';

/** Labels are strings; numbers and booleans are accepted and stringified, empty means unlabeled. */
export function toLabel(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new InputError('BAD_RECORD', `label must be a string, number or boolean, got ${typeof value}`);
}

/** Index of the first NaN/±Inf value, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

export function nonFiniteError(values: ArrayLike<number>, i: number, features: number): InputError {
  const t = Math.floor(i / features);
  const f = i % features;
  return new InputError('NON_FINITE', `value at time step ${t}, feature ${f} is ${values[i]} (NaN and ±Infinity are not allowed)`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
