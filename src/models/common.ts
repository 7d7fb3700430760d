import type { Activation } from '../backend/kernel_names.js';
import { Activation as ActivationLayer, Linear, Sequential, type Layer } from '../nn/index.js';
import type { Rng } from '../tensor/rng.js';

/** What every model builder takes. Images are channels-last: inputShape = [h, w, c]. */
export interface ModelSpec {
  inputShape: readonly [number, number, number];
  classes: number;
  rng: Rng;
  /** Hidden activation; the BP backbones of the AL paper's code use ReLU. */
  activation?: Activation;
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
