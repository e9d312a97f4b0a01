// The embed path as one straight line. Serving a request loads, in order: the contracts (preprocessing shared with
// training: image decode, sequence standardization, the tokenizer), then the inference runtime (its preprocess
// stage, batcher, ONNX Runtime adapter, postprocess), then the serving domain — and never walks back into a room
// (a layer directory under src/, one per domain under src/modules) it has already left. The walk is the order Node
// evaluates the files the GraphQL embed resolver's serving file loads (import-graph.ts `loadOrder`), so a helper
// borrowed from another layer in the middle of the line (say serving → ingest → serving) shows as a return.
import { loadOrder } from './import-graph';

/** The file behind `Query.embed` (src/modules/models/resolvers.ts → ctx.services.serving.embed). */
const SERVING = 'src/modules/models/serving.ts';

export function roomOf(file: string): string {
  const parts = file.split('/');
  if (parts[1] === 'modules') return parts.slice(0, 3).join('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : file;
}

/** The rooms in the order the walk enters them, consecutive repeats folded. */
export function roomSequence(files: readonly string[]): string[] {
  const rooms = files.map(roomOf);
  return rooms.filter((r, i) => i === 0 || rooms[i - 1] !== r);
}

/** Each return: the room entered again and the file that walked back into it. */
export function returns(files: readonly string[]): string[] {
  const left = new Set<string>();
  const out: string[] = [];
  files.forEach((file, i) => {
    const room = roomOf(file);
    const prev = i > 0 ? roomOf(files[i - 1]!) : null;
    if (prev !== null && prev !== room) {
      left.add(prev);
      if (left.has(room)) out.push(`${file} re-enters ${room} after ${files[i - 1]} (rooms: ${roomSequence(files.slice(0, i + 1)).join(' → ')})`);
    }
  });
  return out;
}

describe('architecture: the embed path is one straight line', () => {
  const order = loadOrder(SERVING);

  test('no return to a room already left', () => {
    expect(returns(order)).toEqual([]);
  });

  test('preprocessing comes from the contracts, and the runtime stages follow in order', () => {
    const rooms = roomSequence(order);
    expect(rooms.indexOf('src/contracts')).toBeGreaterThanOrEqual(0);
    expect(rooms.indexOf('src/contracts')).toBeLessThan(rooms.indexOf('src/inference'));
    expect(rooms[rooms.length - 1]).toBe('src/modules/models');
    const at = (f: string) => order.indexOf(`src/${f}.ts`);
    expect(at('contracts/preprocess')).toBeGreaterThanOrEqual(0);
    const stages = ['contracts/preprocess', 'inference/preprocess', 'inference/batcher', 'inference/onnx', 'inference/postprocess', 'inference/service'].map(at);
    expect(stages.every((s) => s >= 0)).toBe(true);
    expect([...stages].sort((a, b) => a - b)).toEqual(stages);
  });

  test('serving never loads the ingest pipeline', () => {
    expect(order.filter((f) => f.startsWith('src/ingest/'))).toEqual([]);
  });

  test('the walk itself: a return is caught, and the load order ends with the start', () => {
    expect(order[order.length - 1]).toBe(SERVING);
    expect(returns(['src/inference/a.ts', 'src/ingest/b.ts', 'src/inference/c.ts'])).toHaveLength(1);
    expect(returns(['src/contracts/a.ts', 'src/inference/b.ts', 'src/modules/models/c.ts'])).toEqual([]);
  });
});
