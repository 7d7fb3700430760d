// A backend that forwards every kernel to another and counts the multiply-adds of the ones that
// do a network's arithmetic: matrix products and convolutions (forward, backward data, backward
// weights). Element-wise kernels, normalisation and pooling are left out: they are memory-bound
// and a small share of the work, and a multiply-add count is how AL's and BP's cost compare.
import type { Backend, Conv2dAttrs, MatMulAttrs } from './kernel_names.js';

export interface CountingBackend {
  backend: Backend;
  /** multiply-adds counted since the start (or the last reset) */
  macs(): number;
  reset(): void;
}

const convMacs = (a: Conv2dAttrs): number => a.n * a.outH * a.outW * a.o * a.c * a.kh * a.kw;

/**
 * `inner` with the multiply-adds of its matrix products and convolutions counted. `dry`: those
 * kernels write zeros instead of computing, and optimizer updates do nothing: a count that needs
 * only the shapes, at a fraction of the time, for a network whose values no longer matter.
 */
export function countingBackend(inner: Backend, options: { dry?: boolean } = {}): CountingBackend {
  let macs = 0;
  const dry = options.dry === true;
  const counted: Partial<Backend> = {
    matmul(a, b, bias, out, attrs: MatMulAttrs) {
      macs += attrs.m * attrs.k * attrs.n;
      if (dry) out.fill(0);
      else inner.matmul(a, b, bias, out, attrs);
    },
    conv2dForward(x, weight, bias, y, attrs) {
      macs += convMacs(attrs);
      if (dry) y.fill(0);
      else inner.conv2dForward(x, weight, bias, y, attrs);
    },
    conv2dBackwardData(dy, weight, dx, attrs) {
      macs += convMacs(attrs);
      if (dry) dx.fill(0);
      else inner.conv2dBackwardData(dy, weight, dx, attrs);
    },
    conv2dBackwardWeights(x, dy, dWeight, dBias, attrs) {
      macs += convMacs(attrs);
      if (!dry) return inner.conv2dBackwardWeights(x, dy, dWeight, dBias, attrs);
      dWeight.fill(0);
      dBias?.fill(0);
    },
    ...(dry ? { adamStep: () => {}, sgdStep: () => {} } : {}),
  };
  const backend = new Proxy(inner, {
    get: (target, key, receiver) => (key in counted ? counted[key as keyof Backend] : Reflect.get(target, key, receiver)),
  });
  return { backend, macs: () => macs, reset: () => { macs = 0; } };
}
