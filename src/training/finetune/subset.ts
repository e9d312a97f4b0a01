// Seeded, stratified label subsets. Every class is shuffled once by (seed, class), and a fraction takes the first
// round(fraction·count) of each class (at least 1): the same (fraction, seed) gives the same subset in every arm of
// a comparison, and smaller fractions are nested in larger ones.
import { createRng } from '../rng';

/** Sorted indices into `labels` (null labels are never picked). */
export function stratifiedSubset(labels: readonly (string | null)[], fraction: number, seed: number | string): Int32Array {
  checkFraction(fraction);
  return perClass(labels, seed, (count) => Math.max(1, Math.round(fraction * count)));
}

/**
 * `n` labeled rows of every class (all of a class that has fewer), from the same per-class shuffles as
 * stratifiedSubset, so "10 per class" and "1 %" draw nested prefixes of one order.
 */
export function perClassSubset(labels: readonly (string | null)[], n: number, seed: number | string): Int32Array {
  if (!Number.isInteger(n) || n < 1) throw new Error(`labelsPerClass must be a positive integer; got ${n}. E.g. 10.`);
  return perClass(labels, seed, () => n);
}

function perClass(labels: readonly (string | null)[], seed: number | string, count: (members: number) => number): Int32Array {
  const byClass = new Map<string, number[]>();
  labels.forEach((l, i) => {
    if (l === null) return;
    const list = byClass.get(l);
    if (list) list.push(i);
    else byClass.set(l, [i]);
  });
  const picked: number[] = [];
  for (const cls of [...byClass.keys()].sort()) {
    const members = byClass.get(cls)!;
    const order = createRng(seed, 'label-subset', cls).permutation(members.length);
    const take = Math.min(members.length, count(members.length));
    for (let i = 0; i < take; i++) picked.push(members[order[i]!]!);
  }
  return Int32Array.from(picked.sort((a, b) => a - b));
}

/** Unstratified variant for regression targets: a seeded prefix of one shuffle of the labeled rows. */
export function randomSubset(labels: readonly (string | null)[], fraction: number, seed: number | string): Int32Array {
  checkFraction(fraction);
  const labeled = labels.flatMap((l, i) => (l === null ? [] : [i]));
  const order = createRng(seed, 'label-subset', '*').permutation(labeled.length);
  const take = Math.min(labeled.length, Math.max(1, Math.round(fraction * labeled.length)));
  return Int32Array.from(Array.from(order.subarray(0, take), (i) => labeled[i]!).sort((a, b) => a - b));
}

function checkFraction(fraction: number): void {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`labelFraction must be in (0, 1]; got ${fraction}. E.g. 0.01 for 1 % of the labels.`);
}
