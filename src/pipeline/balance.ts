// Placing AL layers on fewer workers than layers: contiguous groups whose measured costs are as
// even as possible, since the slowest stage sets the pace of the whole pipeline.
import { buildAssociatedNet } from '../al/decompositions.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { oneHot } from '../al/associated_net.js';
import type { ALNetBlueprint } from './messages.js';
import { linearPartition } from './projection.js';

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
  return linearPartition(costs(), workers).ranges.map(([start, end]) => Array.from({ length: end - start }, (_, k) => start + k));
}
