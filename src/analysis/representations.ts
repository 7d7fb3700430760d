// What a trained network makes of its inputs, layer by layer, and the class distances of each
// such representation on a seeded sample of the test set.
//
//   AL   s_k = f_k(... f_1(x)) for the chosen AL layers k, and b_k(s_k), the bridge's image of s_k
//        in the space of t_k (what the associated loss pulls towards t_k).
//        t_k = g_k(... g_1(one-hot y)) is a function of the label alone: all points of a class
//        share it, so its intra-class distance is 0 and its ratio is undefined. Only its
//        inter-class distance means something (how far apart the targets are), computed from
//        the |C| class targets directly (targetInterDistance).
//   BP   the output of each top-level module of the Sequential (the MLP: Flatten, five
//        Linear+activation blocks, the classifier; the CNN: eight conv blocks, Flatten, the dense
//        blocks, the classifier), numbered from 1.
//   both the raw input x, as the baseline every layer is compared with.
import type { AssociatedNet } from '../al/associated_net.js';
import { oneHot } from '../al/associated_net.js';
import type { Split } from '../data/dataset.js';
import { Sequential } from '../nn/container.js';
import type { Layer } from '../nn/layer.js';
import { Rng } from '../tensor/rng.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import { ClassDistanceAccumulator, meanPairwiseDistance, type ClassDistances } from './class_distances.js';

/** Representations of a batch, computed together in one forward pass. */
export interface Probe {
  /** one name per representation, in the order run() returns them */
  names: string[];
  /** the batch [b, ...shape] → one NHWC tensor [b, ...] per name (evaluation mode, no graph) */
  run(x: Tensor): Tensor[];
  /** evaluation mode on (false) and back (true) */
  setTraining(mode: boolean): void;
}

/** A representation's distances, under its name. */
export interface NamedDistances extends ClassDistances {
  name: string;
}

/**
 * `n` test points chosen without replacement by `seed` (the first n of a seeded permutation,
 * kept in index order), copied into a split of their own.
 */
export function sampleSplit(split: Split, n: number, seed: number): Split {
  if (!Number.isInteger(n) || n < 2 || n > split.n) throw new RangeError(`sampleSplit: expected 2 to ${split.n} samples (the split's size), got ${n}`);
  const chosen = new Rng(seed).permutation(split.n).subarray(0, n).sort();
  const size = split.shape.reduce((p, d) => p * d, 1);
  const images = new Float32Array(n * size);
  const labels = new Int32Array(n);
  chosen.forEach((index, i) => {
    images.set(split.images.subarray(index * size, (index + 1) * size), i * size);
    labels[i] = split.labels[index]!;
  });
  return { images, labels, n, shape: split.shape, classes: split.classes };
}

/** The input itself, ahead of the probe's representations. */
export function withInput(probe: Probe): Probe {
  return { names: ['x (input)', ...probe.names], run: (x) => [x, ...probe.run(x)], setTraining: (m) => probe.setTraining(m) };
}

/** s_k and b_k(s_k) of each AL layer in `layers` (1-based). */
export function alProbe(net: AssociatedNet, layers: readonly number[]): Probe {
  checkLayers('alProbe', layers, net.depth);
  const last = Math.max(...layers);
  return {
    names: layers.flatMap((k) => [`s${k}`, `b${k}(s${k})`]),
    run: (x) => noGrad(() => {
      const out = new Map<number, Tensor[]>();
      let s = x;
      for (let k = 1; k <= last; k++) {
        s = net.layers[k - 1]!.encode(s);
        if (layers.includes(k)) out.set(k, [s.toLayout('nhwc'), net.layers[k - 1]!.bridge(s)]);
      }
      return layers.flatMap((k) => out.get(k)!);
    }),
    setTraining: (mode) => net.train(mode),
  };
}

/** A short name for a top-level module: "Linear", "Conv2d+Activation", "BasicBlock+BasicBlock+BasicBlock". */
export function moduleName(layer: Layer): string {
  return layer instanceof Sequential ? layer.layers.map(moduleName).join('+') : layer.constructor.name;
}

/** The output of each top-level module of `model` in `modules` (1-based). */
export function sequentialProbe(model: Sequential, modules: readonly number[]): Probe {
  checkLayers('sequentialProbe', modules, model.layers.length);
  const last = Math.max(...modules);
  return {
    names: modules.map((k) => `${k} ${moduleName(model.layers[k - 1]!)}`),
    run: (x) => noGrad(() => {
      const out = new Map<number, Tensor>();
      let y = x;
      for (let k = 1; k <= last; k++) {
        y = model.layers[k - 1]!.forward(y);
        if (modules.includes(k)) out.set(k, y.toLayout('nhwc'));
      }
      return modules.map((k) => out.get(k)!);
    }),
    setTraining: (mode) => model.train(mode),
  };
}

function checkLayers(what: string, layers: readonly number[], depth: number): void {
  if (layers.length === 0) throw new RangeError(`${what}: expected at least one layer`);
  for (const k of layers) {
    if (!Number.isInteger(k) || k < 1 || k > depth) throw new RangeError(`${what}: expected layers from 1 to ${depth}, got ${k}`);
  }
}

/**
 * Output `index` of `probe` for every point of `split`, [n, features] row-major, batch by batch
 * in evaluation mode: the points a t-SNE embeds. One representation at a time, so a wide conv
 * layer costs its own features only.
 */
export function collectFeatures(probe: Probe, split: Split, index = 0, batchSize = 250): { data: Float32Array; features: number } {
  if (!Number.isInteger(index) || index < 0 || index >= probe.names.length) throw new RangeError(`collectFeatures: expected an output 0..${probe.names.length - 1}, got ${index}`);
  const size = split.shape.reduce((p, d) => p * d, 1);
  let data: Float32Array | null = null;
  let features = 0;
  probe.setTraining(false);
  try {
    for (let start = 0; start < split.n; start += batchSize) {
      const b = Math.min(batchSize, split.n - start);
      const out = probe.run(new Tensor(split.images.subarray(start * size, (start + b) * size), [b, ...split.shape]))[index]!;
      if (data === null) {
        features = out.size / b;
        data = new Float32Array(split.n * features);
      }
      data.set(out.data, start * features);
    }
  } finally {
    probe.setTraining(true);
  }
  return { data: data ?? new Float32Array(0), features };
}

/**
 * Memory the features of all points may take (4 bytes a float, every representation together)
 * for pass 2 to read them back instead of running the forward again: 2,000 points × eight
 * 1,024-wide representations take 64 MB; a conv layer's s_1 (25k floats a point) does not fit
 * and is streamed.
 */
export const KEEP_FEATURES_BYTES = 256 * 1024 * 1024;

/**
 * Class distances of every representation of `probe` over all points of `split`, in two passes
 * (centroids, then distances; see class_distances.ts). Pass 2 reads the features kept from pass 1
 * when they fit in `keepBytes`, else runs the forward again, so memory stays at one batch plus
 * the centroids however wide the layers are.
 */
export function measureDistances(probe: Probe, split: Split, batchSize = 250, keepBytes = KEEP_FEATURES_BYTES): NamedDistances[] {
  const size = split.shape.reduce((p, d) => p * d, 1);
  let accumulators: ClassDistanceAccumulator[] | null = null;
  let kept: Float32Array[] | null = null;
  const batches = (each: (start: number, b: number) => void): void => {
    for (let start = 0; start < split.n; start += batchSize) each(start, Math.min(batchSize, split.n - start));
  };
  const forward = (start: number, b: number): Tensor[] =>
    probe.run(new Tensor(split.images.subarray(start * size, (start + b) * size), [b, ...split.shape]));
  probe.setTraining(false);
  try {
    batches((start, b) => {
      const outs = forward(start, b);
      if (accumulators === null) {
        accumulators = outs.map((t) => new ClassDistanceAccumulator(split.labels, split.classes, t.size / b));
        const bytes = accumulators.reduce((sum, a) => sum + 4 * a.features * split.n, 0);
        if (bytes <= keepBytes) kept = accumulators.map((a) => new Float32Array(a.features * split.n));
      }
      outs.forEach((t, i) => {
        accumulators![i]!.addToCentroids(t.data, start);
        kept?.[i]!.set(t.data, start * accumulators![i]!.features);
      });
    });
    batches((start, b) => {
      const outs = kept
        ? kept.map((f, i) => f.subarray(start * accumulators![i]!.features, (start + b) * accumulators![i]!.features))
        : forward(start, b).map((t) => t.data);
      outs.forEach((data, i) => accumulators![i]!.addToDistances(data, start));
    });
  } finally {
    probe.setTraining(true);
  }
  return accumulators!.map((a, i) => ({ name: probe.names[i]!, ...a.result() }));
}

/**
 * The inter-class distance of t_k for each AL layer k in `layers`: the mean distance between
 * the targets g_k(... g_1(e_c)) of the classes c in `classes` (the ones present in the sample).
 */
export function targetInterDistance(net: AssociatedNet, layers: readonly number[], classes: readonly number[]): { name: string; inter: number; features: number }[] {
  checkLayers('targetInterDistance', layers, net.depth);
  net.train(false);
  try {
    return noGrad(() => {
      let t = oneHot(Int32Array.from(classes), net.classes);
      const out = new Map<number, { inter: number; features: number }>();
      for (let k = 1; k <= Math.max(...layers); k++) {
        t = net.layers[k - 1]!.parts.g.forward(t);
        const features = t.size / classes.length;
        if (layers.includes(k)) out.set(k, { inter: meanPairwiseDistance(t.data, classes.length, features), features });
      }
      return layers.map((k) => ({ name: `t${k}`, ...out.get(k)! }));
    });
  } finally {
    net.train(true);
  }
}
