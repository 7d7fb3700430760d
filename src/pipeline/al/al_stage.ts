// One stage of pipelined AL: a contiguous group of AL layers, with their parameters, optimizers and
// schedules. It takes (s_{i-1}, t_{i-1}) of a mini-batch, lets each of its layers take its local
// step in order, and hands (s_j, t_j) of its last layer on. Nothing comes back from downstream:
// that AL needs no backward messages is what makes the pipeline possible. This class knows no
// transport; a worker thread (al_worker.ts) or a process wraps it.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ALLayer, LayerLosses } from '../../al/al_layer.js';
import { oneHot, type AssociatedNet } from '../../al/associated_net.js';
import { buildALLayers } from '../../al/decompositions.js';
import { labelGroups } from '../../al/label_groups.js';
import { withoutWeightDraws } from '../../backend/backend.js';
import { Rng } from '../../tensor/rng.js';
import { Tensor } from '../../tensor/tensor.js';
import { StageConfigError } from '../runtime/errors.js';
import type { LayerSnapshot, LayerState } from './al_messages.js';
import type { OptimizerState } from '../../optim/optimizer.js';
import type { ALNetBlueprint, ALNetModule, ALStageNet } from '../runtime/messages.js';
import { loadNamedTensors, namedTensors } from '../runtime/state.js';

export { StageConfigError };

/** Builds the layers `indices` (0-based) of the net a blueprint describes, and of the others only what fixes their shapes. */
export function buildStageLayers(blueprint: ALNetBlueprint, indices: readonly number[]): ALLayer[] {
  // The coordinator ships the initial weights, so nothing is drawn here: the tensors are
  // overwritten at once.
  const layers = withoutWeightDraws(() => buildALLayers({ ...blueprint, rng: new Rng(0) }, indices));
  const missing = indices.find((i) => !layers.some((layer) => layer.index === i + 1));
  if (missing !== undefined) throw new StageConfigError(`stage: the net has no AL layer ${missing + 1}`);
  return indices.map((i) => layers.find((layer) => layer.index === i + 1)!);
}

/** The module of a user's net as a file: URL, so that a stage resolves it as the coordinator did. */
export function moduleUrl(module: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/** Builds the user's net from its module (see ALNetModule), with an Rng whose draws are overwritten. */
export async function buildModuleNet(net: ALNetModule): Promise<AssociatedNet> {
  const name = net.exportName ?? 'default';
  const exports = await import(moduleUrl(net.module)) as Record<string, unknown>;
  const builder = exports[name];
  if (typeof builder !== 'function') throw new StageConfigError(`stage: ${net.module} has no function export '${name}' to build the AL net with`);
  const built = await (builder as (rng: Rng, options: unknown) => unknown)(new Rng(0), net.options);
  const layers = (built as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers) || typeof (built as { classes?: unknown }).classes !== 'number') {
    throw new StageConfigError(`stage: ${net.module}'s '${name}' returned ${String(built)}, expected an AssociatedNet`);
  }
  return built as AssociatedNet;
}

/** The layers `indices` (0-based) of a stage's net, built-in or the user's, and its class count. */
export async function buildStageNet(net: ALStageNet, indices: readonly number[]): Promise<{ layers: ALLayer[]; classes: number }> {
  if (!('module' in net)) return { layers: buildStageLayers(net, indices), classes: net.classes };
  const built = await buildModuleNet(net);
  const layers = indices.map((i) => {
    const layer = built.layers[i];
    if (!layer) throw new StageConfigError(`stage: the net of ${net.module} has ${built.depth} AL layers, no layer ${i + 1}`);
    return layer;
  });
  return { layers, classes: built.classes };
}

/**
 * The state of an AL layer as plain data: copies of its tensors and of its optimizers' buffers,
 * or with `live` the very arrays the layer trains in (to be moved, after which the layer holds
 * none until it adopts others: see loadLayerState).
 */
export function layerState(layer: ALLayer, live = false): LayerState {
  const optimizers = layer.optimizerStates();
  const copy = (s: OptimizerState): OptimizerState => ({ ...s, buffers: Object.fromEntries(Object.entries(s.buffers).map(([k, b]) => [k, b.map((a) => a.slice())])) });
  return {
    index: layer.index,
    // buffers (batch-norm statistics) are small, and always copied: only parameters move
    tensors: alLayerTensors(layer, !live, true),
    optimizers: live ? optimizers : { forward: copy(optimizers.forward), target: copy(optimizers.target) },
  };
}

/**
 * Loads a state made by layerState into a layer of the same shape (names and sizes checked). With
 * `adopt`, the layer takes the state's arrays of parameters and optimizer buffers as its own
 * instead of copying them (the state's owner gives them up); buffers such as batch-norm
 * statistics are copied either way.
 */
export function loadLayerState(layer: ALLayer, state: LayerState, adopt = false): void {
  if (state.index !== layer.index) throw new StageConfigError(`stage: state of AL layer ${state.index} given to layer ${layer.index}`);
  const owner = `AL layer ${layer.index}`;
  loadNamedTensors(alLayerTensors(layer, false, false), state.tensors, owner, adopt ? new Map(alLayerParameters(layer)) : undefined);
  layer.forwardOptimizer.loadState(state.optimizers.forward, adopt);
  layer.targetOptimizer.loadState(state.optimizers.target, adopt);
}

/**
 * The buffers of a layer's live state that can move without a copy: those of its parameters and
 * optimizer buffers, each the whole of its ArrayBuffer (a view into a shared one would take its
 * neighbours along).
 */
export function movableBuffers(state: LayerState): ArrayBuffer[] {
  return wholeBuffers([...state.tensors.map(([, a]) => a), ...[state.optimizers.forward, state.optimizers.target].flatMap((s) => Object.values(s.buffers).flat())]);
}

/** The ArrayBuffers that arrays own whole, once each (a view into a shared one would take its neighbours along). */
function wholeBuffers(arrays: Float32Array[]): ArrayBuffer[] {
  const owned = arrays.filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.byteLength > 0).map((a) => a.buffer as ArrayBuffer);
  return [...new Set(owned)];
}

/**
 * Frees arrays a layer gave away whose memory is still here (a copy was sent, as over ZeroMQ):
 * each buffer is detached, as a transfer would have done. The layer holds nothing until it adopts.
 */
export function detachBuffers(buffers: ArrayBuffer[]): void {
  const attached = buffers.filter((b) => b.byteLength > 0);
  if (attached.length > 0) structuredClone(attached, { transfer: attached });
}

/** The parts prediction reads of a layer: f and h, and b on the net's last layer. */
function predictionParts(withBridge: boolean): readonly Part[] {
  return withBridge ? ['f', 'b', 'h'] : ['f', 'h'];
}

/** Copies of what prediction reads of a layer (predictionParts), parameters then buffers of each part. */
export function layerSnapshot(layer: ALLayer, withBridge: boolean): LayerSnapshot {
  return { index: layer.index, tensors: alLayerTensors(layer, true, true, predictionParts(withBridge)) };
}

/**
 * Loads a snapshot into a layer of the same shape (names and sizes checked): the layer takes the
 * snapshot's parameter arrays as its own, and its other parameters stay as they are.
 */
export function loadLayerSnapshot(layer: ALLayer, snapshot: LayerSnapshot, withBridge: boolean): void {
  if (snapshot.index !== layer.index) throw new StageConfigError(`stage: snapshot of AL layer ${snapshot.index} given to layer ${layer.index}`);
  const parts = predictionParts(withBridge);
  loadNamedTensors(alLayerTensors(layer, false, false, parts), snapshot.tensors, `AL layer ${layer.index}`, new Map(alLayerParameters(layer, parts)));
}

/** The buffers of a snapshot's copies, which move to the coordinator and then belong to its net. */
export function snapshotBuffers(snapshot: LayerSnapshot): ArrayBuffer[] {
  return wholeBuffers(snapshot.tensors.map(([, a]) => a));
}

type Part = 'f' | 'b' | 'g' | 'h';
const PARTS: readonly Part[] = ['f', 'b', 'g', 'h'];

/** The parameters of the layer's parts (default all four), named by part. */
function alLayerParameters(layer: ALLayer, parts = PARTS): [string, Tensor][] {
  return parts.flatMap((part) => layer.parts[part].namedParameters(`${part}.`));
}

/** Parameters then buffers of each of the layer's parts (default f, b, g, h), named by part (namedTensors). */
function alLayerTensors(layer: ALLayer, copyParameters: boolean, copyBuffers: boolean, parts = PARTS): [string, Float32Array][] {
  return parts.flatMap((part) => namedTensors(layer.parts[part], `${part}.`, copyParameters, copyBuffers));
}

export interface StageOutput {
  s: Tensor;
  t: Tensor;
  losses: LayerLosses[];
}

export class ALStage {
  private epoch = -1;

  constructor(readonly layers: ALLayer[], readonly classes: number) {
    if (layers.length === 0) throw new StageConfigError('stage: expected at least one AL layer');
  }

  /**
   * One mini-batch through this stage's layers. `t` is t_{i-1}, or null on the first stage,
   * which builds t_0 = one-hot(labels) itself. The labels come with every batch (null: none
   * came, and the target paths run on every sample's row).
   */
  step(s: Tensor, t: Tensor | null, labels: Int32Array | null, epoch: number, epochs: number): StageOutput {
    if (epoch !== this.epoch) {
      for (const layer of this.layers) layer.setEpoch(epoch, epochs);
      this.epoch = epoch;
    }
    let target = t;
    if (target === null) {
      if (labels === null) throw new StageConfigError(`stage with AL layer ${this.layers[0]!.index}: a batch came with neither t nor labels`);
      target = oneHot(labels, this.classes);
    }
    // the labels travel with every batch: each stage's target paths run once per label, as sequential AL's do
    const groups = labels === null ? undefined : labelGroups(labels);
    let sOut = s;
    const losses = this.layers.map((layer) => {
      const out = layer.trainStep(sOut, target!, groups);
      sOut = out.s;
      target = out.t;
      return out.losses;
    });
    return { s: sOut, t: target, losses };
  }

  /** Copies of what prediction reads of this stage's layers; `lastStage`: its last layer is the net's, whose b prediction reads too. */
  snapshots(lastStage: boolean): LayerSnapshot[] {
    return this.layers.map((layer, i) => layerSnapshot(layer, lastStage && i === this.layers.length - 1));
  }

  /** Copies of the layers' states, or with `live` the arrays they train in (see layerState). */
  states(live = false): LayerState[] {
    return this.layers.map((layer) => layerState(layer, live));
  }
}
