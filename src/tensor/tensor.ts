// A float32 tensor with reverse-mode autograd.
//
// Data is a dense row-major Float32Array over an ArrayBuffer, so it can be handed to the native
// kernels and transferred to worker threads without copies. A tensor made by a differentiable op
// keeps a `node`: the input tensors and a closure that maps this tensor's gradient to theirs.
// `backward()` sorts the graph topologically and runs the closures in reverse, accumulating (+=)
// into every input that requires a gradient. `detach()` cuts the graph, which is how an AL layer
// keeps its gradient from ever crossing into the layer below.
import { backend } from '../backend/backend.js';
import { ShapeError, shapeString } from './errors.js';

export type Shape = readonly number[];

/** Maps the gradient of an op's output to the gradients of its inputs (null: no gradient). */
export type BackwardFn = (dy: Float32Array) => (Float32Array | null)[];

interface GradNode {
  op: string;
  inputs: Tensor[];
  backward: BackwardFn;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`shape: expected non-negative integer dims, got ${shapeString(shape)}`);
    n *= d;
  }
  return n;
}

/**
 * A Float32Array whose contents are unspecified, for kernel outputs that are written in full.
 * Zero-filling an 8 MB activation costs about 0.7 ms here, an uninitialised one 0.03 ms, and a
 * ResNet step allocates about a hundred of them. Not pooled, so its buffer can be transferred.
 */
export function emptyFloat32(n: number): Float32Array {
  const bytes = Buffer.allocUnsafeSlow(n * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, n);
}

export class Tensor {
  readonly data: Float32Array;
  readonly shape: Shape;
  requiresGrad: boolean;
  grad: Float32Array | null = null;
  node: GradNode | null = null;
  /** Parameters carry a dotted name (e.g. "layers.0.weight") for checkpoints and messages. */
  name = '';

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new ShapeError(`Tensor: expected ${size} elements for shape ${shapeString(shape)}, got ${data.length}`);
    }
    this.data = data;
    this.shape = [...shape];
    this.requiresGrad = requiresGrad;
  }

  static zeros(shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)), shape, requiresGrad);
  }

  /** Uninitialised contents: only for outputs a kernel overwrites entirely. */
  static empty(shape: Shape): Tensor {
    return new Tensor(emptyFloat32(sizeOf(shape)), shape);
  }

  static from(values: ArrayLike<number>, shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.from(values), shape, requiresGrad);
  }

  get size(): number {
    return this.data.length;
  }

  /** Same data, no history: gradients stop here. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A view with another shape over the same data (differentiable). */
  reshape(shape: Shape): Tensor {
    if (sizeOf(shape) !== this.size) {
      throw new ShapeError(`reshape: expected a shape with ${this.size} elements for ${shapeString(this.shape)}, got ${shapeString(shape)}`);
    }
    return fromOp('reshape', new Tensor(this.data, shape), [this], (dy) => [dy]);
  }

  /** Runs reverse-mode differentiation from this tensor (a scalar loss unless `seed` is given). */
  backward(seed?: Float32Array): void {
    if (seed === undefined && this.size !== 1) {
      throw new ShapeError(`backward: expected a scalar or an explicit seed gradient, got shape ${shapeString(this.shape)}`);
    }
    accumulate(this, seed ?? new Float32Array([1]), null);
    for (const t of topologicalOrder(this).reverse()) {
      const node = t.node;
      if (node === null || t.grad === null) continue;
      const grads = node.backward(t.grad);
      for (let i = 0; i < node.inputs.length; i++) {
        const input = node.inputs[i]!;
        const g = grads[i];
        if (g && input.requiresGrad) accumulate(input, g, t.grad);
      }
      // An intermediate gradient is needed by nobody once its inputs have theirs.
      t.grad = null;
    }
  }

  toString(): string {
    return `Tensor(${shapeString(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

let gradEnabled = true;

/** Runs fn without recording any graph (evaluation): no closures, no saved activations. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Wraps an op's result: records the graph node when any input needs a gradient.
 * Ops call this and never set `node` themselves.
 */
export function fromOp(op: string, out: Tensor, inputs: Tensor[], backwardFn: BackwardFn): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward: backwardFn };
  }
  return out;
}

// g may be the upstream gradient itself (ops like add or reshape pass it through): the first
// owner gets a copy so that two inputs never share one gradient buffer.
function accumulate(t: Tensor, g: Float32Array, upstream: Float32Array | null): void {
  if (g.length !== t.size) {
    throw new ShapeError(`backward: gradient of ${g.length} elements for a tensor of shape ${shapeString(t.shape)}`);
  }
  if (t.grad === null) t.grad = g === upstream ? g.slice() : g;
  else backend().add(t.grad, g, t.grad);
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative depth-first search: ResNet-32 graphs are deep enough to matter for recursion.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const input of t.node?.inputs ?? []) if (!seen.has(input) && input.requiresGrad) stack.push([input, false]);
  }
  return order;
}
