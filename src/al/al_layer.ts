// One Associated Learning layer (Kao & Chen, Neural Computation 33(1), 2021):
//
//            s_{i-1} ──f_i──▶ s_i ──b_i──▶ ŝ_i        associated loss   ||ŝ_i − t_i||²  trains f_i, b_i
//                                            ╎ (t_i detached)
//            t_{i-1} ──g_i──▶ t_i ──h_i──▶ t̂_{i-1}  autoencoder loss ||t̂_{i-1} − t_{i-1}||²  trains g_i, h_i
//
// s_{i-1} and t_{i-1} arrive detached and s_i, t_i leave detached, so no gradient ever crosses a
// layer: the layer owns its parameters, its two optimizers (Adam at lr for f, b and at 2·lr for
// g, h by default) and its learning-rate schedule, and can live alone in a worker thread.
import { decayedParameters, type DecayScope } from '../nn/kernels.js';
import type { Layer } from '../nn/layer.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer, OptimizerState } from '../optim/optimizer.js';
import { scheduledLr, type Milestone } from '../optim/schedule.js';
import { ShapeError, shapeString } from '../tensor/errors.js';
import { meanSquaredError } from '../tensor/ops/loss.js';
import { gatherRows } from '../tensor/ops/rows.js';
import { noGrad, releaseGraph, type Tensor } from '../tensor/tensor.js';
import type { LabelGroups } from './label_groups.js';

/** The four parts of an AL layer. */
export interface ALParts {
  /** forward encoder s_{i-1} -> s_i */
  f: Layer;
  /** bridge s_i -> the space of t_i */
  b: Layer;
  /** target encoder t_{i-1} -> t_i */
  g: Layer;
  /** decoder t_i -> t_{i-1} */
  h: Layer;
}

export interface ALOptimizerOptions {
  /** learning rate of f and b */
  lr: number;
  /** learning rate of g and h (the authors use 2·lr) */
  targetLr: number;
  weightDecay: number;
  /**
   * Which parameters weight decay reaches: 'all' (every parameter of f, b, g, h), or the kernels
   * of f alone ('kernels': dense and conv weights; 'conv-kernels': conv filters), as the authors'
   * code regularises (default 'all').
   */
  decayOn?: DecayScope;
  milestones: readonly Milestone[];
  /** multipliers of lr for some parameters of f and b (codes.ts: the wide bridge's last layer) */
  lrScale?: ReadonlyMap<Tensor, number>;
}

export interface LayerLosses {
  associatedLoss: number;
  autoencoderLoss: number;
}

export class ALDivergenceError extends Error {
  override name = 'ALDivergenceError';
  constructor(readonly layer: number, readonly loss: 'associated' | 'autoencoder', value: number) {
    super(`AL layer ${layer}: the ${loss} loss became ${value}`);
  }
}

export class ALLayer {
  readonly forwardOptimizer: Optimizer;
  readonly targetOptimizer: Optimizer;
  /** g and h map each row on its own: no batch norm (the only layer with buffers) */
  private readonly rowwiseTarget: boolean;

  /** `index` is 1-based, as in the paper. */
  constructor(readonly index: number, readonly parts: ALParts, readonly options: ALOptimizerOptions) {
    const { f, b, g, h } = parts;
    this.rowwiseTarget = g.namedBuffers().length === 0 && h.namedBuffers().length === 0;
    const scope = options.decayOn ?? 'all';
    const only = (decayed: Layer[]): { decayed?: Tensor[] } => (scope === 'all' ? {} : { decayed: decayedParameters(decayed, scope) });
    this.forwardOptimizer = new Adam([...f.parameters(), ...b.parameters()], {
      lr: options.lr, weightDecay: options.weightDecay, ...only([f]), ...(options.lrScale ? { lrScale: options.lrScale } : {}),
    });
    this.targetOptimizer = new Adam([...g.parameters(), ...h.parameters()], { lr: options.targetLr, weightDecay: options.weightDecay, ...only([]) });
  }

  /** Sets both learning rates for a 0-based epoch of `epochs`. */
  setEpoch(epoch: number, epochs: number): void {
    this.forwardOptimizer.lr = scheduledLr(this.options.lr, epoch, epochs, this.options.milestones);
    this.targetOptimizer.lr = scheduledLr(this.options.targetLr, epoch, epochs, this.options.milestones);
  }

  /**
   * One local step on a mini-batch: both losses, both backward passes, both updates.
   * Returns s_i and t_i detached, ready for layer i + 1, and b_i(s_i) (computed before the update).
   * `groups`: the samples that share a label, whose rows of t_{i-1} are then equal (t_0 is
   * one-hot, and each t_i is g_i of the one before). g_i and h_i then run once per label present
   * (label_groups.ts), which changes the losses and gradients only by float rounding; not when
   * they hold batch norm, whose statistics would be the labels' rather than the batch's.
   */
  trainStep(sPrev: Tensor, tPrev: Tensor, groups?: LabelGroups): { s: Tensor; t: Tensor; bridged: Tensor; losses: LayerLosses } {
    const { f, b, g, h } = this.parts;
    const sIn = sPrev.detach(), tIn = tPrev.detach();
    const batch = tIn.shape[0]!;
    if (groups !== undefined && groups.index.length !== batch) {
      throw new ShapeError(`AL layer ${this.index}: label groups for ${groups.index.length} samples, t_${this.index - 1} ${shapeString(tIn.shape)} has ${batch}`);
    }
    const shared = groups !== undefined && groups.first.length < batch && this.rowwiseTarget ? groups : null;
    this.forwardOptimizer.zeroGrad();
    this.targetOptimizer.zeroGrad();
    const s = f.forward(sIn);
    const tRows = g.forward(shared ? gatherRows(tIn, shared.first) : tIn);
    const t = shared ? noGrad(() => gatherRows(tRows, shared.index)) : tRows;
    const bridged = b.forward(s);
    const associated = meanSquaredError(bridged, t.detach());
    const decoded = h.forward(tRows);
    const autoencoder = meanSquaredError(shared ? gatherRows(decoded, shared.index) : decoded, tIn);
    const losses = { associatedLoss: associated.data[0]!, autoencoderLoss: autoencoder.data[0]! };
    if (!Number.isFinite(losses.associatedLoss)) throw new ALDivergenceError(this.index, 'associated', losses.associatedLoss);
    if (!Number.isFinite(losses.autoencoderLoss)) throw new ALDivergenceError(this.index, 'autoencoder', losses.autoencoderLoss);
    associated.backward();
    autoencoder.backward();
    this.forwardOptimizer.step();
    this.targetOptimizer.step();
    // Of the two graphs only s, t and b(s) leave the layer: every other activation's buffer serves
    // the next step (as bpStep's do) instead of waiting for the garbage collector.
    const leaving = [s, t, bridged];
    releaseGraph(associated, leaving);
    releaseGraph(autoencoder, leaving);
    return { s: s.detach(), t: t.detach(), bridged: bridged.detach(), losses };
  }

  /** Inference: s_i from s_{i-1} (evaluation mode, no graph). */
  encode(sPrev: Tensor): Tensor {
    return noGrad(() => this.parts.f.forward(sPrev));
  }

  /** Inference: the bridge's image of s_i in the space of t_i. */
  bridge(s: Tensor): Tensor {
    return noGrad(() => this.parts.b.forward(s));
  }

  /** Inference: t_{i-1} decoded from t_i. */
  decode(t: Tensor): Tensor {
    return noGrad(() => this.parts.h.forward(t));
  }

  train(mode = true): void {
    for (const part of Object.values(this.parts)) part.train(mode);
  }

  /** Parameters by part, with names "f.0.weight", "h.bias", ... */
  namedParameters(): [string, Tensor][] {
    return (['f', 'b', 'g', 'h'] as const).flatMap((name) => this.parts[name].namedParameters(`${name}.`));
  }

  namedBuffers(): [string, Float32Array][] {
    return (['f', 'b', 'g', 'h'] as const).flatMap((name) => this.parts[name].namedBuffers(`${name}.`));
  }

  optimizerStates(): { forward: OptimizerState; target: OptimizerState } {
    return { forward: this.forwardOptimizer.state(), target: this.targetOptimizer.state() };
  }
}
