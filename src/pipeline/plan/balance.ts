// Placing AL layers on fewer workers than layers: contiguous groups whose measured costs are as
// even as possible, since the slowest stage sets the pace of the whole pipeline.
import { buildAssociatedNet } from '../../al/decompositions.js';
import { Rng } from '../../tensor/rng.js';
import { Tensor } from '../../tensor/tensor.js';
import { createOptimizer, type OptimizerSettings } from '../../optim/factory.js';
import { buildModel, type ModelName } from '../../models/index.js';
import { oneHot } from '../../al/associated_net.js';
import { labelGroups } from '../../al/label_groups.js';
import { randomSplit } from '../../data/synthetic.js';
import type { ALNetBlueprint } from '../runtime/messages.js';
import { linearPartition, type PhaseCost } from './projection.js';

/**
 * Milliseconds of one local training step of each AL layer on a batch of `batchSize`, measured on
 * a throwaway copy of the net (so the run's weights and random streams are untouched) with the
 * calling thread's thread count: the median of `repeats` after one warm-up.
 */
export function measureLayerCosts(blueprint: ALNetBlueprint, batchSize: number, repeats = 3): number[] {
  const net = buildAssociatedNet({ ...blueprint, rng: new Rng(0) });
  const batch = randomSplit(batchSize, [...blueprint.inputShape], blueprint.classes, 1);
  let s = new Tensor(batch.images, [batchSize, ...blueprint.inputShape]);
  let t = oneHot(batch.labels, blueprint.classes);
  const groups = labelGroups(batch.labels);
  return net.layers.map((layer) => {
    const times: number[] = [];
    let out = layer.trainStep(s, t, groups);
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      out = layer.trainStep(s, t, groups);
      times.push(performance.now() - start);
    }
    s = out.s;
    t = out.t;
    return median(times);
  });
}

function median(times: number[]): number {
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** Stages for `workers` workers: one per layer when there are as many, else balanced by cost. */
export function planStages(depth: number, workers: number, costs: () => number[]): number[][] {
  if (workers === depth) return Array.from({ length: depth }, (_, i) => [i]);
  return linearStages(costs(), workers);
}

/** Contiguous groups of item indices with the most even cost sums. */
export function linearStages(costs: readonly number[], groups: number): number[][] {
  return linearPartition(costs, groups).ranges.map(([start, end]) => Array.from({ length: end - start }, (_, k) => start + k));
}

/**
 * Milliseconds of forward, backward and optimizer update of each top-level module of a BP
 * backbone on a batch of `batchSize`, measured on a throwaway copy with the calling thread's thread
 * count: the median of `repeats` after one warm-up. The projections use the three phases; stage
 * planning balances their sum.
 */
export function measureModulePhases(model: ModelName, inputShape: readonly [number, number, number], classes: number, batchSize: number, settings: OptimizerSettings,
  { repeats = 3, hidden }: { repeats?: number; hidden?: readonly number[] | undefined } = {}): PhaseCost[] {
  const network = buildModel(model, { inputShape, classes, rng: new Rng(0), hidden });
  let x = new Tensor(randomSplit(batchSize, [...inputShape], classes, 1).images, [batchSize, ...inputShape]);
  return network.layers.map((module, i) => {
    const optimizer = createOptimizer(module.parameters(), settings);
    const forward: number[] = [], backward: number[] = [], update: number[] = [];
    let out = x;
    for (let r = 0; r <= repeats; r++) {
      const input = i === 0 ? x : new Tensor(x.data, x.shape, true);
      let start = performance.now();
      out = module.forward(input).toLayout('nhwc');
      const f = performance.now() - start;
      const seed = new Float32Array(out.size).fill(1 / out.size);
      start = performance.now();
      out.backward(seed);
      const b = performance.now() - start;
      start = performance.now();
      if (optimizer.params.length > 0) optimizer.step();
      const u = performance.now() - start;
      optimizer.zeroGrad();
      if (r > 0) {
        forward.push(f);
        backward.push(b);
        update.push(u);
      }
    }
    x = out.detach();
    return { forward: median(forward), backward: median(backward), update: median(update) };
  });
}
