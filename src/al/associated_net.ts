// A stack of AL layers. Training feeds (x, one-hot label) = (s_0, t_0) through the layers in
// order, each taking one local step; prediction runs the shortcut the paper defines,
//   y = h_1(h_2(... h_k(b_k(f_k(... f_1(x)))))),
// from the last layer (k = L) or, for early exit, from any layer k.
import type { Layer } from '../nn/layer.js';
import { Tensor } from '../tensor/tensor.js';
import { ALLayer, type LayerLosses } from './al_layer.js';
import { labelGroups } from './label_groups.js';

export class ALConfigError extends Error {
  override name = 'ALConfigError';
}

/** t_0: one row per label, 1 at the label's column. */
export function oneHot(labels: Int32Array, classes: number): Tensor {
  const t = Tensor.zeros([labels.length, classes]);
  labels.forEach((label, row) => {
    if (!(label >= 0 && label < classes)) throw new RangeError(`oneHot: expected labels in 0..${classes - 1}, got ${label} at row ${row}`);
    t.data[row * classes + label] = 1;
  });
  return t;
}

export class AssociatedNet {
  constructor(readonly layers: ALLayer[], readonly classes: number) {
    if (layers.length === 0) throw new ALConfigError('AssociatedNet: expected at least one AL layer');
  }

  get depth(): number {
    return this.layers.length;
  }

  setEpoch(epoch: number, epochs: number): void {
    for (const layer of this.layers) layer.setEpoch(epoch, epochs);
  }

  train(mode = true): void {
    for (const layer of this.layers) layer.train(mode);
  }

  /**
   * One sequential AL step: every layer trains on this batch in order. Returns the losses per
   * layer and the class scores decoded from the last layer's bridge output (computed during
   * the step, so the training accuracy costs only the decoders).
   */
  trainStep(x: Tensor, labels: Int32Array): { losses: LayerLosses[]; scores: Tensor } {
    let s = x;
    let t = oneHot(labels, this.classes);
    let bridged = t;
    const groups = labelGroups(labels);
    const losses = this.layers.map((layer) => {
      const out = layer.trainStep(s, t, groups);
      s = out.s;
      t = out.t;
      bridged = out.bridged;
      return out.losses;
    });
    return { losses, scores: this.decodeFrom(this.depth, bridged) };
  }

  /** h_1(...h_k(t)): class scores from a representation in the space of t_k. */
  decodeFrom(k: number, t: Tensor): Tensor {
    let y = t;
    for (let i = k - 1; i >= 0; i--) y = this.layers[i]!.decode(y);
    return y;
  }

  /** Class scores [batch, classes] predicted from AL layer `exit` (1-based; default the last). */
  predict(x: Tensor, exit = this.depth): Tensor {
    if (!Number.isInteger(exit) || exit < 1 || exit > this.depth) {
      throw new ALConfigError(`predict: expected an exit layer from 1 to ${this.depth}, got ${exit}`);
    }
    let s = x;
    for (let i = 0; i < exit; i++) s = this.layers[i]!.encode(s);
    return this.decodeFrom(exit, this.layers[exit - 1]!.bridge(s));
  }

  /** The parameters prediction uses: every f, every h, and the last layer's b. */
  effectiveParameters(): Tensor[] {
    return this.layers.flatMap((layer, i) => [
      ...layer.parts.f.parameters(),
      ...layer.parts.h.parameters(),
      ...(i === this.depth - 1 ? layer.parts.b.parameters() : []),
    ]);
  }

  /** The parameters only training uses: the other bridges and every g. */
  affiliatedParameters(): Tensor[] {
    return this.layers.flatMap((layer, i) => [
      ...(i === this.depth - 1 ? [] : layer.parts.b.parameters()),
      ...layer.parts.g.parameters(),
    ]);
  }

  /** "layers.<i>.<part>..." names, 1-based like the paper. */
  namedParameters(): [string, Tensor][] {
    return this.layers.flatMap((layer) => layer.namedParameters().map(([n, t]): [string, Tensor] => [`layers.${layer.index}.${n}`, t]));
  }

  namedBuffers(): [string, Float32Array][] {
    return this.layers.flatMap((layer) => layer.namedBuffers().map(([n, b]): [string, Float32Array] => [`layers.${layer.index}.${n}`, b]));
  }

  toString(): string {
    const part = (name: string, l: Layer): string => `    ${name}: ${l.toString('    ')}`;
    return `AssociatedNet(${this.depth} layers, ${this.classes} classes)\n` + this.layers.map((layer) =>
      `  layer ${layer.index}\n${(['f', 'b', 'g', 'h'] as const).map((n) => part(n, layer.parts[n])).join('\n')}`).join('\n');
  }
}
