// The optimizer base: zeroGrad, step, and one per-parameter update that subclasses provide.
// Updates are fused native kernels (one pass over param, grad and state), so TypeScript never
// loops over weights.
import { releaseGrad, zerosFloat32, type Tensor } from '../tensor/tensor.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function requireInRange(owner: string, name: string, value: number, min: number, max: number, minInclusive = true): void {
  const ok = Number.isFinite(value) && (minInclusive ? value >= min : value > min) && value <= max;
  if (!ok) throw new ConfigError(`${owner}: expected ${minInclusive ? `${min} <=` : `${min} <`} ${name} <= ${max}, got ${value}`);
}

/** Named per-parameter state buffers (e.g. Adam's m and v), for checkpoints. */
export type OptimizerState = { step: number; lr: number; buffers: Record<string, Float32Array[]> };

export abstract class Optimizer {
  /** Number of step() calls so far. */
  stepCount = 0;

  constructor(readonly params: Tensor[], public lr: number) {
    requireInRange(this.constructor.name, 'lr', lr, 0, Infinity);
  }

  /** Drops every gradient; the buffers are reused by the next backward pass. */
  zeroGrad(): void {
    for (const p of this.params) releaseGrad(p);
  }

  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (p.grad !== null) this.update(p, p.grad, i);
    });
  }

  protected abstract update(param: Tensor, grad: Float32Array, index: number): void;

  abstract state(): OptimizerState;
  /** Loads a state() of an optimizer of the same parameters; with `adopt`, takes its buffers (the caller gives them up) instead of copying them. */
  abstract loadState(state: OptimizerState, adopt?: boolean): void;
}

/** Per parameter, whether it is among `decayed` (undefined: all are); a decayed tensor that is not a parameter is an error. */
export function decayMask(owner: string, params: Tensor[], decayed: readonly Tensor[] | undefined): boolean[] {
  if (decayed === undefined) return params.map(() => true);
  const set = new Set(decayed);
  const mask = params.map((p) => set.delete(p));
  if (set.size > 0) throw new ConfigError(`${owner}: expected the decayed tensors among the optimizer's parameters, got ${set.size} that are not`);
  return mask;
}

/** Per parameter, its multiplier of lr (1 where `scale` has none); a scale for a tensor that is not a parameter is an error. */
export function lrScales(owner: string, params: Tensor[], scale: ReadonlyMap<Tensor, number> | undefined): number[] {
  if (scale === undefined) return params.map(() => 1);
  const known = new Set(params);
  for (const [tensor, k] of scale) {
    if (!known.has(tensor)) throw new ConfigError(`${owner}: lrScale: expected only the optimizer's parameters, got a tensor of shape [${tensor.shape.join(', ')}] that is not one`);
    requireInRange(owner, 'lrScale', k, 0, Infinity, false);
  }
  return params.map((p) => scale.get(p) ?? 1);
}

/** Lazily allocated per-parameter buffers of the parameter's size. */
export function stateBuffers(params: Tensor[]): Float32Array[] {
  return params.map((p) => zerosFloat32(p.size));
}

/**
 * Copies `from` into the buffers `into`, or with `adopt` puts `from`'s arrays in their places;
 * `sizes` are the lengths expected (`into` may hold arrays given away, of no length).
 */
export function copyBuffers(owner: string, into: Float32Array[], from: Float32Array[] | undefined, adopt: boolean, sizes: readonly number[]): void {
  if (!from || from.length !== into.length) throw new ConfigError(`${owner}: optimizer state has ${from?.length ?? 0} buffers, expected ${into.length}`);
  into.forEach((b, i) => {
    const src = from[i]!;
    if (src.length !== sizes[i]) throw new ConfigError(`${owner}: optimizer state buffer ${i} has ${src.length} elements, expected ${sizes[i]}`);
    if (adopt) into[i] = src;
    else b.set(src);
  });
}
