// The maps of an AL layer that live in code space: the bridge b_i (s_i -> t_i's space), the target
// encoder g_i (t_{i-1} -> t_i) and the decoder h_i (t_i -> t_{i-1}). Two recipes build them.
//
// The authors': every map ends in a sigmoid, the bridge is wide (dense 5n, sigmoid, dense n,
// sigmoid), He-normal weights. With sigmoid codes every class's t_i starts near 0.5 in every
// unit, and Adam's first, sign-like steps move all classes' codes together: on the MNIST MLP the
// spread between class codes at layer 2 falls about 50-fold in the first 10 steps, so b_L has nothing
// to tell classes apart by and accuracy sits at chance for hundreds of steps.
//
// Ours: codes are tanh (centred, so the classes' codes start apart and stay apart), the wide
// bridge's hidden layer is tanh too, and the square maps g_i, h_i (i >= 2) start near the identity,
// so codes keep their spread through depth instead of contracting layer by layer. h_1 still ends
// in a sigmoid: it decodes to the one-hot label t_0. docs/design.md has the measurements.
//
// Ours also steps the wide bridge's 5n -> n layer at lr / 5. Adam moves every weight by up to
// about lr a step, all one way when the batch's gradient agrees, so a code pre-activation can move
// by lr * sum_j |h_j| over the layer's inputs h: a bound that grows with the fan-in, and this
// layer has 5n inputs where the others have about n. At lr, such steps saturate the codes' tanh
// and then the layers below it, the gradient vanishes and the net stays at chance for good
// (docs/design.md, the recipe, has the measurements).
//
// Bridges: 'wide' is the authors' (dense 5n then n); 'slim' keeps their two dense layers with a
// hidden width of n; 'lean' is one dense map to t_i. Slim and lean first max-pool a feature map
// down to about 4 x 4, so that AL does about BP's arithmetic or less (docs/design.md, the recipe).
import type { Activation as ActivationKind } from '../backend/kernel_names.js';
import { Activation, Flatten, Linear, MaxPool2d, Sequential, type Initializer, type Layer } from '../nn/index.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The learning rate of g and h of AL layer `index` (1-based) for `lr` of f and b. The authors':
 * 2·lr everywhere. Ours: 2·lr for layer 1, whose small maps between the label and t_1 must learn
 * fast, and lr/2 for the deeper layers' square code maps. Adam moves every weight by about its rate
 * each step whatever the gradient's size, and on 1024 x 1024 near-identity maps at 2·lr that moves
 * all classes' codes together: the MLP's deep layers lose half their code spread in 20 steps and
 * the last exit falls (54 % after 40 steps, 4 layers). At lr/2 the codes keep their spread.
 */
export function defaultTargetLr(lr: number, authors: boolean, index: number): number {
  return authors || index === 1 ? 2 * lr : lr / 2;
}

export const BRIDGES = ['wide', 'slim', 'lean'] as const;
export type Bridge = (typeof BRIDGES)[number];

/** The side a slim or lean bridge pools a feature map down to (about; the pool window is a whole number). */
const LEAN_SIDE = 4;

export interface CodeMapsSpec {
  /** shape of s_i: [h, w, c] for feature maps, [features] for vectors */
  sShape: readonly number[];
  /** width of t_{i-1} (the number of classes for the first layer) */
  tPrev: number;
  /** width n of t_i */
  tWidth: number;
  /** the first AL layer: h_1 decodes to the one-hot label */
  first: boolean;
  bridge: Bridge;
  /** the authors' recipe (sigmoid codes, He-normal everywhere) rather than ours */
  authors: boolean;
  rng: Rng;
}

export interface CodeMaps {
  b: Layer;
  g: Layer;
  h: Layer;
  /** multipliers of the forward optimizer's lr for some of b's parameters (ours: the wide bridge's 5n -> n layer) */
  lrScale: Map<Tensor, number>;
}

/** A bridge's hidden width in multiples of n: the authors' wide one 5, the slim one 1; 0 for lean, which has no hidden layer. */
export function bridgeHidden(bridge: Bridge): number {
  return { wide: 5, slim: 1, lean: 0 }[bridge];
}

export function buildCodeMaps(spec: CodeMapsSpec): CodeMaps {
  const { tPrev, tWidth, rng } = spec;
  const code: ActivationKind = spec.authors ? 'sigmoid' : 'tanh';
  const square = (from: number, to: number): Initializer => (!spec.authors && from === to ? 'near-identity' : 'he');
  const g = new Sequential(new Linear(tPrev, tWidth, rng, { init: square(tPrev, tWidth) }), new Activation(code));
  const h = new Sequential(new Linear(tWidth, tPrev, rng, { init: square(tWidth, tPrev) }), new Activation(spec.first ? 'sigmoid' : code));
  const lrScale = new Map<Tensor, number>();
  return { b: bridge(spec, code, lrScale), g, h, lrScale };
}

function bridge(spec: CodeMapsSpec, code: ActivationKind, lrScale: Map<Tensor, number>): Layer {
  const { sShape, tWidth, rng } = spec;
  const layers: Layer[] = [];
  let inputs = sShape.reduce((p, d) => p * d, 1);
  if (spec.bridge !== 'wide' && sShape.length === 3) {
    const [h, w, c] = sShape as [number, number, number];
    const window = Math.floor(Math.min(h, w) / LEAN_SIDE);
    if (window > 1) {
      layers.push(new MaxPool2d(window));
      inputs = Math.floor(h / window) * Math.floor(w / window) * c;
    }
  }
  if (sShape.length > 1) layers.push(new Flatten());
  if (spec.bridge === 'lean') {
    layers.push(new Linear(inputs, tWidth, rng), new Activation(code));
  } else {
    const hidden = bridgeHidden(spec.bridge);
    const out = new Linear(hidden * tWidth, tWidth, rng);
    layers.push(new Linear(inputs, hidden * tWidth, rng), new Activation(code), out, new Activation(code));
    // ours: the second layer's fan-in is hidden x n; see the lr / 5 above (a slim one's is n, as the others')
    if (!spec.authors && hidden > 1) for (const p of out.parameters()) lrScale.set(p, 1 / hidden);
  }
  return new Sequential(...layers);
}
