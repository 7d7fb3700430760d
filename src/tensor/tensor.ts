// A float32 tensor with reverse-mode autograd.
//
// Data is a dense row-major Float32Array over an ArrayBuffer, so it can be handed to the native
// kernels and transferred to worker threads without copies. A tensor made by a differentiable op
// keeps a `node`: the input tensors and a closure that maps this tensor's gradient to theirs.
// `backward()` sorts the graph topologically and runs the closures in reverse, accumulating (+=)
// into every input that requires a gradient. `detach()` cuts the graph, which is how an AL layer
// keeps its gradient from ever crossing into the layer below.
//
// An image tensor may hold its elements in the blocked layout (./layout.ts); its gradient is then
// in the same layout, as is the gradient every backward closure receives for it.
import { backend, hasBackend } from '../backend/backend.js';
import { GivenAwayError, ShapeError, shapeString } from './errors.js';
import type { ImageLayout } from './layout.js';

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
 * ResNet step allocates about a hundred of them. Large ones come from the backend's pool when it
 * keeps one (memory already faulted in, see native/buffer_pool.cc); either way the buffer is the
 * array's own, whole, and can be transferred.
 */
export function emptyFloat32(n: number): Float32Array {
  const pooled = hasBackend() ? backend().pooledBuffer(n * 4) : null;
  if (pooled !== null) return new Float32Array(pooled);
  const bytes = Buffer.allocUnsafeSlow(n * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, n);
}

/** `n` zeros, for arrays that live long (weights, optimizer moments): see Backend.zeroedBuffer. */
export function zerosFloat32(n: number): Float32Array {
  const zeroed = hasBackend() ? backend().zeroedBuffer(n * 4) : null;
  return zeroed !== null ? new Float32Array(zeroed) : new Float32Array(n);
}

// ***** gradient buffers *****
// Gradients inside a backward pass die as soon as their op has run, so their buffers go back to
// a per-thread free list keyed by length and the next step takes them from there: after the
// first step, backward allocates almost nothing, which spares the allocator, the page faults of
// fresh memory and V8's external-memory garbage collections (measured: ~20 % of a ResNet-20
// step on 2 cores before this).
//
// A length whose buffers come back more often than they are asked for must not pile up. Bias and
// batch-norm gradients and the loss seed were made with `new Float32Array` and given back by
// every optimizer step, so these lists grew by 7 buffers (33-37 KB) a step in each stage of the
// pipelined MLP, for good: 7 -> 18 MB a stage over 10 epochs of 5,000 samples, about 80 MB a
// stage over 20 epochs of 15,000, in small blocks scattered through the stage threads' heaps.
// Those now come from gradBuffer too (the lists stay at 13 and 11 buffers), and as a bound for any
// such imbalance to come, every TRIM_MS the buffers of each length that were not asked for since
// the last trim (the fewest its list held in that time) go to the garbage collector.
interface FreeList {
  buffers: Float32Array[];
  /** the fewest buffers this list held since the last trim: those were not needed */
  low: number;
}
const freeLists = new Map<number, FreeList>();
let freeBytes = 0;
const FREE_CAP_BYTES = 1 << 30;
// several steps of any model here (an MLP step takes 0.1 s, a ResNet-20 step 0.5 s, a VGG step
// a few seconds), so that buffers a step does use are never dropped between two steps
const TRIM_MS = 10_000;
let lastTrim = performance.now();

/**
 * A buffer of n floats with unspecified contents, for a gradient or an activation a kernel writes
 * in full: from the free list (gradients of earlier backward passes, graphs released by
 * releaseGraph) when it has one of that length.
 */
export function gradBuffer(n: number): Float32Array {
  const list = freeLists.get(n);
  const reused = list?.buffers.pop();
  if (reused) {
    freeBytes -= n * 4;
    list!.low = Math.min(list!.low, list!.buffers.length);
    return reused;
  }
  return emptyFloat32(n);
}

/** Gives back a buffer from gradBuffer that nothing holds any more, for the next gradBuffer(length). */
export function freeGradBuffer(buffer: Float32Array): void {
  const bytes = buffer.length * 4;
  // only whole, live buffers: a view into a larger one, or a transferred one, is left alone
  if (bytes === 0 || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== bytes || freeBytes + bytes > FREE_CAP_BYTES) return;
  if (performance.now() - lastTrim >= TRIM_MS) trimGradBuffers();
  let list = freeLists.get(buffer.length);
  if (!list) freeLists.set(buffer.length, (list = { buffers: [], low: 0 }));
  list.buffers.push(buffer);
  freeBytes += bytes;
}

/**
 * Puts the buffers of every tensor an op made in `root`'s graph on the free list and drops the
 * graph, for a caller that holds none of them any more: a BP step once its update is made. The
 * next step's activations then reuse them instead of new ArrayBuffers, each of which V8 counts
 * as external memory: a ResNet-20 step made ~15 garbage collections for that pressure alone.
 * Views sharing a buffer (reshape) give it back once; leaves (parameters, inputs) are left alone,
 * and so are the buffers of `keep`, tensors of the graph (or detached copies) still in use.
 */
export function releaseGraph(root: Tensor, keep: readonly Tensor[] = []): void {
  const seen = new Set<ArrayBufferLike>(keep.map((t) => t.storage.buffer));
  for (const t of topologicalOrder(root)) {
    if (t.node === null) continue;
    t.node = null;
    if (seen.has(t.storage.buffer)) continue;
    seen.add(t.storage.buffer);
    freeGradBuffer(t.storage);
  }
}

/** Drops the free buffers not asked for since the last trim (runs every TRIM_MS by itself). */
export function trimGradBuffers(): void {
  for (const [n, list] of freeLists) {
    // the oldest go: gradBuffer takes the newest
    list.buffers.splice(0, list.low);
    freeBytes -= list.low * n * 4;
    if (list.buffers.length === 0) freeLists.delete(n);
    else list.low = list.buffers.length;
  }
  lastTrim = performance.now();
}

/** The calling thread's free gradient buffers, for tests and memory reports. */
export function gradBufferStats(): { buffers: number; bytes: number } {
  let buffers = 0;
  for (const list of freeLists.values()) buffers += list.buffers.length;
  return { buffers, bytes: freeBytes };
}

/** Drops t's gradient and keeps its buffer for the next backward pass (optimizers' zeroGrad). */
export function releaseGrad(t: Tensor): void {
  if (t.grad !== null) freeGradBuffer(t.grad);
  t.grad = null;
}

export class Tensor {
  private stored: Float32Array;
  private readonly count: number;
  readonly shape: Shape;
  /** 'blocked' only for images [n, h, w, c] whose c is a multiple of the backend's channelBlock */
  readonly layout: ImageLayout;
  requiresGrad: boolean;
  grad: Float32Array | null = null;
  node: GradNode | null = null;
  /** Parameters carry a dotted name (e.g. "layers.0.weight") for checkpoints and messages. */
  name = '';

  constructor(data: Float32Array, shape: Shape, requiresGrad = false, layout: ImageLayout = 'nhwc') {
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new ShapeError(`Tensor: expected ${size} elements for shape ${shapeString(shape)}, got ${data.length}`);
    }
    if (layout === 'blocked' && (shape.length !== 4 || shape[3]! % backend().channelBlock !== 0)) {
      throw new ShapeError(`Tensor: the blocked layout needs an image [n, h, w, c] with c a multiple of ${backend().channelBlock}, got ${shapeString(shape)}`);
    }
    this.stored = data;
    this.count = size;
    this.shape = [...shape];
    this.requiresGrad = requiresGrad;
    this.layout = layout;
  }

  /** The elements in the order `layout` says: the same array as `data` for NHWC tensors. */
  get storage(): Float32Array {
    // a transferred buffer reads as empty: say where the elements went instead of letting a
    // kernel report a length mismatch (or a loop read nothing)
    if (this.stored.length !== this.count) {
      throw new GivenAwayError(`Tensor ${this.name === '' ? '' : `'${this.name}' `}${shapeString(this.shape)}: its elements were moved to pipeline stages and not brought back (collect the pipeline first; after a failed run, load its checkpoint)`);
    }
    return this.stored;
  }

  /** The array held now: empty while the elements are given away. For the code that moves them (compute reads storage). */
  get held(): Float32Array {
    return this.stored;
  }

  /**
   * Takes `data` as this tensor's elements in place of the ones it holds, which the caller has
   * given away (a pipeline ships a layer's weights to the stage that trains them and takes the
   * trained ones back without a copy). Same size; NHWC tensors only.
   */
  adopt(data: Float32Array): void {
    if (data.length !== this.size || this.layout !== 'nhwc') {
      throw new ShapeError(`Tensor.adopt: expected ${this.size} elements for an NHWC tensor ${shapeString(this.shape)}, got ${data.length}${this.layout === 'nhwc' ? '' : ' (it is blocked)'}`);
    }
    this.stored = data;
  }

  /** The elements, row-major over `shape`. A blocked tensor has none in that order: call toLayout('nhwc') first. */
  get data(): Float32Array {
    if (this.layout !== 'nhwc') {
      throw new Error(`Tensor ${shapeString(this.shape)} is in the blocked layout: call toLayout('nhwc') before reading its data`);
    }
    return this.storage;
  }

  /** The same values in another layout (differentiable); this tensor itself when it is in that layout. */
  toLayout(layout: ImageLayout): Tensor {
    if (layout === this.layout) return this;
    const [n, h, w, c] = this.shape as [number, number, number, number];
    const b = backend();
    const toBlocked = layout === 'blocked';
    const y = new Tensor(emptyFloat32(this.size), this.shape, false, layout);
    b.reorderImages(this.storage, y.storage, { n, h, w, c, toBlocked });
    return fromOp('toLayout', y, [this], (dy) => {
      const dx = gradBuffer(dy.length);
      b.reorderImages(dy, dx, { n, h, w, c, toBlocked: !toBlocked });
      return [dx];
    });
  }

  static zeros(shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(zerosFloat32(sizeOf(shape)), shape, requiresGrad);
  }

  /** Uninitialised contents: only for outputs a kernel overwrites entirely. */
  static empty(shape: Shape, layout: ImageLayout = 'nhwc'): Tensor {
    return new Tensor(gradBuffer(sizeOf(shape)), shape, false, layout);
  }

  static from(values: ArrayLike<number>, shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.from(values), shape, requiresGrad);
  }

  /** The element count of `shape` (also while the elements are given away, see adopt) */
  get size(): number {
    return this.count;
  }

  /** Same data, no history: gradients stop here. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, false, this.layout);
  }

  /** A view with another shape over the same data (differentiable); a blocked tensor is reordered to NHWC first. */
  reshape(shape: Shape): Tensor {
    if (sizeOf(shape) !== this.size) {
      throw new ShapeError(`reshape: expected a shape with ${this.size} elements for ${shapeString(this.shape)}, got ${shapeString(shape)}`);
    }
    if (this.layout !== 'nhwc') return this.toLayout('nhwc').reshape(shape);
    return fromOp('reshape', new Tensor(this.data, shape), [this], (dy) => [dy]);
  }

  /**
   * Runs reverse-mode differentiation from this tensor (a scalar loss unless `seed` is given; a
   * seed is in this tensor's layout).
   */
  backward(seed?: Float32Array): void {
    if (seed === undefined && this.size !== 1) {
      throw new ShapeError(`backward: expected a scalar or an explicit seed gradient, got shape ${shapeString(this.shape)}`);
    }
    // from gradBuffer: the seed ends up in the free list like every other gradient
    const first = gradBuffer(seed ? seed.length : 1);
    if (seed) first.set(seed);
    else first[0] = 1;
    accumulate(this, first);
    for (const t of topologicalOrder(this).reverse()) {
      const node = t.node;
      const dy = t.grad;
      if (node === null || dy === null) continue;
      // Nobody needs an intermediate gradient once its inputs have theirs.
      t.grad = null;
      const grads = node.backward(dy);
      // Ops like add and reshape pass dy itself through: the first input takes it over, any
      // other adds it to its gradient or gets a copy, so two tensors never share a buffer.
      let dyOwned = false;
      for (let i = 0; i < node.inputs.length; i++) {
        const input = node.inputs[i]!;
        let g = grads[i];
        if (!g || !input.requiresGrad) continue;
        if (g === dy && dyOwned) {
          // a second consumer of dy: add it where a gradient exists, else copy into a pooled buffer
          if (input.grad !== null) {
            accumulate(input, g);
            continue;
          }
          g = gradBuffer(dy.length);
          g.set(dy);
        }
        if (g === dy) dyOwned = true;
        if (accumulate(input, g)) freeGradBuffer(g);
      }
      if (!dyOwned) freeGradBuffer(dy);
    }
  }

  toString(): string {
    return `Tensor(${shapeString(this.shape)}${this.layout === 'nhwc' ? '' : `, ${this.layout}`}${this.requiresGrad ? ', requiresGrad' : ''})`;
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

/** Adds g into t.grad; returns true when g was added (and is free), false when t took it over. */
function accumulate(t: Tensor, g: Float32Array): boolean {
  if (g.length !== t.size) {
    throw new ShapeError(`backward: gradient of ${g.length} elements for a tensor of shape ${shapeString(t.shape)}`);
  }
  if (t.grad === null) {
    t.grad = g;
    return false;
  }
  backend().add(t.grad, g, t.grad);
  return true;
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
