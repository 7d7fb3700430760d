import type { Activation } from '../backend/kernel_names.js';
import { Activation as ActivationLayer, BatchNorm, Linear, Sequential, type BatchNormOptions, type Layer, type LinearOptions } from '../nn/index.js';
import type { Rng } from '../tensor/rng.js';

/** What every model builder takes. Images are channels-last: inputShape = [h, w, c]. */
export interface ModelSpec {
  inputShape: readonly [number, number, number];
  classes: number;
  rng: Rng;
  /** Hidden activation; the BP backbones of the AL paper's code use ReLU. */
  activation?: Activation;
  /**
   * 'authors': the network as Kao & Chen's code builds it where ours differs (docs/fidelity.md):
   * hidden widths set by the dataset, the ResNet block and head, Glorot-initialised VGG dense
   * layers, and TensorFlow's batch-norm settings. Default: ours.
   */
  variant?: 'authors';
  /** MLP: the hidden layers' widths, input side first (default: the paper's, or the authors' variant's) */
  hidden?: readonly number[] | undefined;
}

/** TensorFlow's batch normalisation defaults (decay 0.99, epsilon 1e-3), in our momentum convention. */
export const TF_BATCH_NORM: BatchNormOptions = { momentum: 0.01, eps: 1e-3 };

/** The width n the authors' code gives a network's hidden layers: by input (MLP) or class count (the others). */
export function authorsWidth(model: 'mlp' | 'cnn' | 'vgg' | 'resnet', inputShape: readonly number[], classes: number): number {
  if (model === 'mlp') return inputShape[2] === 1 ? 1024 : 3000;
  if (model === 'cnn') return classes > 10 ? 500 : 256;
  return classes > 10 ? 500 : 300;
}

/** The authors' dense stack [5n, n, n, n, n], each with `act` (and batch norm when `batchNorm` is given), then the classifier. */
export function authorsDenseHead(inputs: number, n: number, classes: number, rng: Rng, act: Activation, batchNorm?: BatchNormOptions, linear: LinearOptions = {}): Layer[] {
  const layers: Layer[] = [];
  let width = inputs;
  for (const units of [5 * n, n, n, n, n]) {
    layers.push(batchNorm
      ? new Sequential(new Linear(width, units, rng, { ...linear, bias: false }), new BatchNorm(units, batchNorm), new ActivationLayer(act))
      : new Sequential(new Linear(width, units, rng, linear), new ActivationLayer(act)));
    width = units;
  }
  layers.push(new Linear(width, classes, rng, linear));
  return layers;
}

export class ModelError extends Error {
  override name = 'ModelError';
}

/** Dense layers `inputs` -> widths[0] -> ... (each with `act`), then a linear classifier. */
export function denseHead(inputs: number, widths: readonly number[], classes: number, rng: Rng, act: Activation): Layer[] {
  const layers: Layer[] = [];
  let width = inputs;
  for (const units of widths) {
    layers.push(new Sequential(new Linear(width, units, rng), new ActivationLayer(act)));
    width = units;
  }
  layers.push(new Linear(width, classes, rng));
  return layers;
}
