import type { Activation } from '../backend/kernel_names.js';
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
