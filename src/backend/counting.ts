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

export function countingBackend(inner: Backend): CountingBackend {
  let macs = 0;
  const counted: Partial<Backend> = {
    matmul(a, b, bias, out, attrs: MatMulAttrs) {
      macs += attrs.m * attrs.k * attrs.n;
      inner.matmul(a, b, bias, out, attrs);
    },
    conv2dForward(x, weight, bias, y, attrs) {
      macs += convMacs(attrs);
      inner.conv2dForward(x, weight, bias, y, attrs);
    },
    conv2dBackwardData(dy, weight, dx, attrs) {
      macs += convMacs(attrs);
      inner.conv2dBackwardData(dy, weight, dx, attrs);
    },
    conv2dBackwardWeights(x, dy, dWeight, dBias, attrs) {
      macs += convMacs(attrs);
      inner.conv2dBackwardWeights(x, dy, dWeight, dBias, attrs);
    },
  };
  const backend = new Proxy(inner, {
    get: (target, key, receiver) => (key in counted ? counted[key as keyof Backend] : Reflect.get(target, key, receiver)),
  });
  return { backend, macs: () => macs, reset: () => { macs = 0; } };
}
