// Placing AL layers on fewer workers than layers: contiguous groups whose measured costs are as
// even as possible, since the slowest stage sets the pace of the whole pipeline.
import { buildAssociatedNet } from '../al/decompositions.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { oneHot } from '../al/associated_net.js';
import type { ALNetBlueprint } from './messages.js';

/**
 * Splits costs into `groups` contiguous non-empty groups minimising the largest group sum (exact,
 * by dynamic programming over prefix sums; L and the group count are small). Returns the indices
 * of each group.
 */
export function linearPartition(costs: readonly number[], groups: number): number[][] {
  const n = costs.length;
  if (!Number.isInteger(groups) || groups < 1 || groups > n) throw new RangeError(`linearPartition: expected 1 to ${n} groups, got ${groups}`);
  const prefix = [0];
  for (const c of costs) prefix.push(prefix[prefix.length - 1]! + c);
  // best[g][i]: the smallest possible largest sum when the first i items form g groups
  const best = Array.from({ length: groups + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut = Array.from({ length: groups + 1 }, () => new Array<number>(n + 1).fill(0));
  best[0]![0] = 0;
  for (let g = 1; g <= groups; g++) {
    for (let i = g; i <= n; i++) {
      for (let j = g - 1; j < i; j++) {
        const value = Math.max(best[g - 1]![j]!, prefix[i]! - prefix[j]!);
        if (value < best[g]![i]!) {
          best[g]![i] = value;
          cut[g]![i] = j;
        }
      }
    }
  }
  const out: number[][] = [];
  for (let g = groups, i = n; g > 0; g--) {
    const j = cut[g]![i]!;
    out.unshift(Array.from({ length: i - j }, (_, k) => j + k));
    i = j;
  }
  return out;
}

/**
 * Milliseconds of one local training step of each AL layer on a batch of `batchSize`, measured on
 * a throwaway copy of the net (so the run's weights and random streams are untouched) with the
 * calling thread's thread count: the median of `repeats` after one warm-up.
 */
export function measureLayerCosts(blueprint: ALNetBlueprint, batchSize: number, repeats = 3): number[] {
  const net = buildAssociatedNet({ ...blueprint, rng: new Rng(0) });
  const rng = new Rng(1);
  const [h, w, c] = blueprint.inputShape;
  let s = new Tensor(Float32Array.from({ length: batchSize * h * w * c }, () => rng.next()), [batchSize, h, w, c]);
  let t = oneHot(Int32Array.from({ length: batchSize }, () => rng.int(blueprint.classes)), blueprint.classes);
  return net.layers.map((layer) => {
    const times: number[] = [];
    let out = layer.trainStep(s, t);
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      out = layer.trainStep(s, t);
      times.push(performance.now() - start);
    }
    s = out.s;
    t = out.t;
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  });
}

/** Stages for `workers` workers: one per layer when there are as many, else balanced by cost. */
export function planStages(depth: number, workers: number, costs: () => number[]): number[][] {
  if (workers === depth) return Array.from({ length: depth }, (_, i) => [i]);
  return linearPartition(costs(), workers);
}
