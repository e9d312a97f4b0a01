// Option parsers shared by the commands: a bad value is a CliError naming the flag, never a NaN sent to the server.
import { CliError } from './client';

export const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliError(`--${name} must be an integer, got "${v}"`);
  return n;
};

export const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got "${v}"`);
  return n;
};

export const intList = (name: string) => (v: string) => v.split(',').map((x) => int(name)(x.trim()));

/** The object without its undefined entries (so that server defaults apply). */
export const defined = <T extends object>(v: T): Partial<T> => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as Partial<T>;

/** `--accelerator cpu|gpu` → the API's CPU | GPU. */
export const accelerator = (v: string) => {
  const a = v.toUpperCase();
  if (a !== 'CPU' && a !== 'GPU') throw new CliError(`--accelerator must be cpu or gpu, got "${v}"`);
  return a;
};
