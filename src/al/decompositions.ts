// The five backbones cut into AL layers the way the authors' code (Kao & Chen, GitHub
// SamYWK/Associated_Learning) does it, with `layers` to cut them into another number:
//   mlp       f_i = dense(width) + ELU, any number of layers (default 2, width = t width)
//   cnn       8 conv units (32, 32, 32, 32/2, 64, 64, 64, 64/2; 3×3, ELU), default 4 layers of 2
//   vgg       conv-BN-ELU units 128 | 256 pool | 256 | 512 pool | 512 pool | 512 pool, then dense
//             1024 | 1024 (ELU), default 4 layers of 2
//   resnet20/32  the stem and 3n basic blocks (ELU), default 4 layers: stem | stage 1 | 2 | 3
// variant 'authors' builds the units as their code does where ours differ: VGG without batch
// norm, their ResNet block (BasicBlock form 'authors') and TensorFlow's batch-norm settings.
// Every layer's b_i, g_i and h_i come from codes.ts (t_0 = one-hot label).
import { totalmem } from 'node:os';
import type { Activation as ActivationKind } from '../backend/kernel_names.js';
import type { ModelName } from '../models/index.js';
import { TF_BATCH_NORM } from '../models/common.js';
import { Activation, BasicBlock, BatchNorm, Conv2d, Flatten, Linear, MaxPool2d, Sequential, type BatchNormOptions, type DecayScope, type Layer } from '../nn/index.js';
import type { Milestone } from '../optim/schedule.js';
import { windowOutput } from '../tensor/ops/conv.js';
import type { Rng } from '../tensor/rng.js';
import { ALLayer } from './al_layer.js';
import { bridgeHidden, buildCodeMaps, defaultTargetLr, type Bridge } from './codes.js';
import { ALConfigError, AssociatedNet } from './associated_net.js';

/** The shape of s_i: [h, w, c] for images, [features] after the dense units. */
type SShape = number[];

interface Unit {
  build(shape: SShape, rng: Rng): { layer: Layer; shape: SShape };
}

export interface ALNetSpec {
  model: ModelName;
  inputShape: readonly [number, number, number];
  classes: number;
  rng: Rng;
  /** number of AL layers (default: the authors' cut) */
  layers?: number;
  /**
   * How many of the backbone's units each AL layer holds, first layer first (default: the
   * authors' cut, or as even as possible for `layers`). Where the cut falls sets the size of each
   * bridge's input, so it sets how evenly pipeline stages are loaded. Not for the MLP, whose AL
   * layers are one dense unit each.
   */
  cut?: readonly number[];
  /** width n of every t_i (default: the authors' for the model and number of classes) */
  tWidth?: number;
  /** learning rate of f and b (default AL_DEFAULT_LR) */
  lr?: number;
  targetLr?: number;
  weightDecay?: number;
  /** which parameters of f and b weight decay reaches (default 'all'; otherwise f's kernels only, as the authors' code) */
  decayOn?: DecayScope;
  milestones?: readonly Milestone[];
  /** 'authors': the units and code maps as the authors' code builds them (see the header and codes.ts); default ours */
  variant?: 'authors';
  /** the bridges b_i (codes.ts): 'wide' (default, the authors'), 'slim' or 'lean' */
  bridge?: Bridge;
}

/** AL's default learning rate: ten times the authors', for our 10-epoch budget (docs/fidelity.md). */
export const AL_DEFAULT_LR = 1e-3;

const F_ACT: ActivationKind = 'elu';

function dense(units: number): Unit {
  return {
    build: (shape, rng) => {
      const inputs = shape.reduce((p, d) => p * d, 1);
      const layers: Layer[] = shape.length > 1 ? [new Flatten()] : [];
      layers.push(new Linear(inputs, units, rng), new Activation(F_ACT));
      return { layer: new Sequential(...layers), shape: [units] };
    },
  };
}

function conv(channels: number, stride: number, options: { bn?: boolean | BatchNormOptions; pool?: boolean } = {}): Unit {
  return {
    build: ([h, w, c], rng) => {
      // without batch norm between them the activation is fused into the convolution's kernel
      const layers: Layer[] = options.bn
        ? [new Conv2d(c!, channels, 3, rng, { stride, padding: 1, bias: false }), new BatchNorm(channels, options.bn === true ? {} : options.bn), new Activation(F_ACT)]
        : [new Conv2d(c!, channels, 3, rng, { stride, padding: 1, activation: F_ACT })];
      let oh = windowOutput(h!, 3, stride, 1), ow = windowOutput(w!, 3, stride, 1);
      if (options.pool) {
        layers.push(new MaxPool2d(2));
        oh = Math.floor(oh / 2);
        ow = Math.floor(ow / 2);
      }
      return { layer: new Sequential(...layers), shape: [oh, ow, channels] };
    },
  };
}

function residual(channels: number, stride: number, authors: boolean): Unit {
  return {
    build: ([h, w, c], rng) => ({
      layer: new BasicBlock(c!, channels, stride, rng, F_ACT, authors ? { form: 'authors', batchNorm: TF_BATCH_NORM } : {}),
      shape: [windowOutput(h!, 3, stride, 1), windowOutput(w!, 3, stride, 1), channels],
    }),
  };
}

interface Decomposition {
  units: Unit[];
  /** the authors' cut: the number of units in each AL layer */
  defaultGroups: number[];
  /** MLP layers are not cut from a fixed stack: any number of dense units */
  repeatable?: boolean;
}

function decomposition(model: ModelName, tWidth: number, layers: number | undefined, variant?: 'authors'): Decomposition {
  const authors = variant === 'authors';
  switch (model) {
    case 'mlp':
      return { units: Array.from({ length: layers ?? 2 }, () => dense(tWidth)), defaultGroups: [1, 1], repeatable: true };
    case 'cnn':
      return { units: [32, 32, 32, 32, 64, 64, 64, 64].map((c, i) => conv(c, i % 4 === 3 ? 2 : 1)), defaultGroups: [2, 2, 2, 2] };
    case 'vgg': {
      const bn = !authors;
      return {
        units: [
          conv(128, 1, { bn }), conv(256, 1, { bn, pool: true }),
          conv(256, 1, { bn }), conv(512, 1, { bn, pool: true }),
          conv(512, 1, { bn, pool: true }), conv(512, 1, { bn, pool: true }),
          dense(1024), dense(1024),
        ],
        defaultGroups: [2, 2, 2, 2],
      };
    }
    case 'resnet20':
    case 'resnet32': {
      const n = model === 'resnet20' ? 3 : 5;
      const stem: Unit = conv(16, 1, { bn: authors ? TF_BATCH_NORM : true });
      const blocks = [16, 32, 64].flatMap((c, s) => Array.from({ length: n }, (_, b) => residual(c, b === 0 && s > 0 ? 2 : 1, authors)));
      return { units: [stem, ...blocks], defaultGroups: [1, n, n, n] };
    }
  }
}

/** How many AL layers a backbone can be cut into. */
export function maxALLayers(model: ModelName): number {
  if (model === 'mlp') return 16;
  return decomposition(model, 1, undefined).units.length;
}

export function defaultALLayers(model: ModelName): number {
  return decomposition(model, 1, undefined).defaultGroups.length;
}

/** The authors' t widths: MLP 1024 (MNIST) / 3000 (CIFAR); CNN 256 / 500 (100 classes); VGG, ResNet 300 / 500. */
export function defaultTWidth(model: ModelName, inputShape: readonly number[], classes: number): number {
  // tabular samples ([1, 1, features]) take the smaller width too: they are no colour images
  const mnistLike = inputShape[2] === 1 || (inputShape[0] === 1 && inputShape[1] === 1);
  if (model === 'mlp') return mnistLike ? 1024 : 3000;
  if (model === 'cnn') return classes > 10 ? 500 : 256;
  return classes > 10 ? 500 : 300;
}

/** Unit counts per layer: the authors' cut when it has `layers` layers, else as even as possible. */
function grouping(d: Decomposition, layers: number): number[] {
  if (d.repeatable) return Array.from({ length: layers }, () => 1);
  if (layers === d.defaultGroups.length) return d.defaultGroups;
  const total = d.units.length;
  return Array.from({ length: layers }, (_, i) => Math.floor((total * (i + 1)) / layers) - Math.floor((total * i) / layers));
}

/** The units per AL layer `cut` asks for, checked against the backbone (and `layers`, when given). */
export function checkCut(model: ModelName, cut: readonly number[], layers: number | undefined): number[] {
  if (model === 'mlp') throw new ALConfigError('--al-cut: the MLP\'s AL layers are one dense unit each; give their number with --al-layers');
  const units = maxALLayers(model);
  if (cut.length === 0 || cut.some((n) => !Number.isInteger(n) || n < 1) || cut.reduce((a, n) => a + n, 0) !== units) {
    throw new ALConfigError(`--al-cut: expected unit counts >= 1 that add up to ${model}'s ${units} units, got ${cut.join(',')}`);
  }
  if (layers !== undefined && layers !== cut.length) throw new ALConfigError(`--al-cut: cuts ${model} into ${cut.length} AL layers, but --al-layers is ${layers}`);
  return [...cut];
}

/** Bytes per parameter while training: the value, its gradient and Adam's two moments, as float32. */
const TRAINING_BYTES_PER_PARAMETER = 16;
/** The most elements a Float32Array may hold (Node 20). */
const MAX_TENSOR_ELEMENTS = 2 ** 32;

/**
 * Refuses a t width whose net cannot be allocated, before anything is: the code maps grow with its
 * square (a wide b_i alone holds a 5n x n matrix), so a mistyped width would otherwise end
 * in an allocation failure (or an out-of-memory kill) far from the flag that caused it. Counts
 * only the parameters that follow from the width, so the real net is at least this large.
 */
function checkWidth(model: ModelName, inputShape: readonly number[], classes: number, layers: number, tWidth: number, bridge: Bridge): void {
  const n = tWidth;
  // the parameters of a two-layer bridge's second dense layer (a lean bridge has none)
  const hidden = bridgeHidden(bridge);
  const bridgeSecond = hidden * n * n;
  const inputs = inputShape.reduce((p, d) => p * d, 1);
  let parameters = 0;
  let tPrev = classes;
  for (let i = 0; i < layers; i++) {
    // b_i's second dense layer, g_i and h_i; the MLP's f_i and b_i's first layer also scale with n
    parameters += bridgeSecond + 2 * n * tPrev;
    if (model === 'mlp') parameters += (i === 0 ? inputs : n) * n + Math.max(hidden, 1) * n * n;
    tPrev = n;
  }
  const largest = Math.max(bridgeSecond, n * (layers > 1 ? n : classes), model === 'mlp' ? inputs * n : 0);
  const gb = (bytes: number): string => `${(bytes / 2 ** 30).toLocaleString('en-US', { maximumSignificantDigits: 3 })} GB`;
  const bytes = parameters * TRAINING_BYTES_PER_PARAMETER;
  if (bytes > totalmem()) {
    throw new ALConfigError(`--t-width: ${n} gives ${model} at least ${parameters.toExponential(2)} parameters, ${gb(bytes)} with their gradients and Adam moments, ` +
      `more than this machine's ${gb(totalmem())} of memory`);
  }
  if (largest > MAX_TENSOR_ELEMENTS) {
    throw new ALConfigError(`--t-width: ${n} gives ${model} a ${largest.toExponential(2)}-element weight matrix, more than the ${MAX_TENSOR_ELEMENTS.toExponential(2)} an array may hold`);
  }
}

export function buildAssociatedNet(spec: ALNetSpec): AssociatedNet {
  return new AssociatedNet(buildALLayers(spec), spec.classes);
}

/**
 * The AL layers of the net `spec` describes, or only those at the 0-based `indices`: a pipeline
 * stage builds its own layers, and of the others only the forward encoders f, whose output shapes
 * it needs (their bridges, g and h are most of a wide net's weights).
 */
export function buildALLayers(spec: ALNetSpec, indices?: readonly number[]): ALLayer[] {
  const max = maxALLayers(spec.model);
  const cut = spec.cut !== undefined ? checkCut(spec.model, spec.cut, spec.layers) : undefined;
  const layers = cut?.length ?? spec.layers ?? defaultALLayers(spec.model);
  if (!Number.isInteger(layers) || layers < 1 || layers > max) {
    throw new ALConfigError(`--al-layers: expected 1 to ${max} for ${spec.model}, got ${layers}`);
  }
  const tWidth = spec.tWidth ?? defaultTWidth(spec.model, spec.inputShape, spec.classes);
  if (!Number.isInteger(tWidth) || tWidth < 1) throw new ALConfigError(`--t-width: expected an integer >= 1, got ${tWidth}`);
  const lr = spec.lr ?? AL_DEFAULT_LR;
  if (!(lr > 0) || !Number.isFinite(lr)) throw new ALConfigError(`--lr: expected a finite number > 0, got ${lr}`);
  const bridge = spec.bridge ?? 'wide';
  const authors = spec.variant === 'authors';
  checkWidth(spec.model, spec.inputShape, spec.classes, layers, tWidth, bridge);
  const d = decomposition(spec.model, tWidth, layers, spec.variant);
  const groups = cut ?? grouping(d, layers);
  const wanted = (i: number): boolean => indices === undefined || indices.includes(i);
  const options = {
    lr,
    weightDecay: spec.weightDecay ?? 0,
    decayOn: spec.decayOn ?? 'all',
    milestones: spec.milestones ?? [],
  };
  const { rng } = spec;
  let shape: SShape = [...spec.inputShape];
  let next = 0;
  const built: ALLayer[] = [];
  groups.forEach((count, i) => {
    const f: Layer[] = [];
    for (const unit of d.units.slice(next, next + count)) {
      const unitBuilt = unit.build(shape, rng);
      f.push(unitBuilt.layer);
      shape = unitBuilt.shape;
    }
    next += count;
    if (!wanted(i)) return;
    const { b, g, h, lrScale } = buildCodeMaps({ sShape: shape, tPrev: i === 0 ? spec.classes : tWidth, tWidth, first: i === 0, bridge, authors, rng });
    const targetLr = spec.targetLr ?? defaultTargetLr(lr, authors, i + 1);
    built.push(new ALLayer(i + 1, { f: f.length === 1 ? f[0]! : new Sequential(...f), b, g, h }, { ...options, targetLr, lrScale }));
  });
  return built;
}
