// The base every layer shares: just enough for optimizers (parameters), checkpoints (named
// parameters and buffers), train/eval mode and printing. The maths lives in src/tensor/ops; a
// layer's backward pass comes from autograd, so layers only define forward().
import type { Tensor } from '../tensor/tensor.js';

export abstract class Layer {
  training = true;

  abstract forward(x: Tensor): Tensor;

  /** This layer's own learned tensors (not its children's), by local name. */
  ownParameters(): [string, Tensor][] {
    return [];
  }

  /** Persistent state that is not learned (batch-norm running statistics). */
  ownBuffers(): [string, Float32Array][] {
    return [];
  }

  children(): [string, Layer][] {
    return [];
  }

  /** Every parameter below this layer with its dotted name ("0.weight", "block.conv1.weight"). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const own = this.ownParameters().map(([name, t]): [string, Tensor] => [prefix + name, t]);
    return own.concat(...this.children().map(([name, child]) => child.namedParameters(`${prefix}${name}.`)));
  }

  namedBuffers(prefix = ''): [string, Float32Array][] {
    const own = this.ownBuffers().map(([name, b]): [string, Float32Array] => [prefix + name, b]);
    return own.concat(...this.children().map(([name, child]) => child.namedBuffers(`${prefix}${name}.`)));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Training mode (batch statistics) or evaluation mode (running statistics), recursively. */
  train(mode = true): this {
    this.training = mode;
    for (const [, child] of this.children()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** One line describing the hyperparameters, PyTorch's extra_repr. */
  describe(): string {
    return '';
  }

  toString(indent = ''): string {
    const head = `${this.constructor.name}(${this.describe()}`;
    const kids = this.children();
    if (kids.length === 0) return `${head})`;
    const inner = kids.map(([name, child]) => `${indent}  (${name}): ${child.toString(indent + '  ')}`).join('\n');
    return `${head}\n${inner}\n${indent})`;
  }
}

export function countParameters(layer: Layer): number {
  return layer.parameters().reduce((n, t) => n + t.size, 0);
}
