// GFLOP/s of matmul and convolution called through our binding (JS-allocated buffers, one call
// per iteration, as training uses them) against oneDNN called directly in a C++ loop on buffers
// in its preferred layouts. Our convolutions take and give blocked activations, as in training
// (src/tensor/layout.ts), so both sides run the same kernel. They are also timed directly on NHWC
// activations, the layout tensors kept before: direct NHWC / direct is what that layout costs.
import type { Backend, Conv2dAttrs, MatMulAttrs } from '../backend/kernel_names.js';
import { loadAddonFile } from '../backend/load_native.js';
import { median, secondsPerCall, type TimingOptions } from './timing.js';

/** oneDNN called directly from C++ in its preferred layouts (native/bench_direct.cc): the yardstick for the binding. */
export interface DirectBench {
  /** Seconds per iteration of the best matmul primitive oneDNN offers for m, k, n. */
  benchMatmulDirect(attrs: MatMulAttrs, iterations: number, threads: number): number;
  /**
   * Seconds per iteration of one convolution pass, every layout left to oneDNN ('any', the
   * default), or with NHWC activations as the binding keeps them ('nhwc').
   */
  benchConvDirect(pass: ConvPass, attrs: Conv2dAttrs, iterations: number, threads: number, layout?: 'any' | 'nhwc'): number;
}

/** The benchmark addon (build/Release/al_bench.node), built beside al_native.node but loaded only here. */
export function loadDirectBench(): DirectBench {
  return loadAddonFile<DirectBench>('al_bench.node');
}

export type ConvPass = 'forward' | 'backwardData' | 'backwardWeights';

export interface KernelWorkload {
  name: string;
  flops: number;
  /** one call through the binding, on buffers allocated once */
  prepare(backend: Backend): () => void;
  /** seconds per call of oneDNN directly */
  direct(bench: DirectBench, iterations: number, threads: number): number;
  /** seconds per call of oneDNN directly on the layout the binding keeps, where that differs */
  directNhwc?(bench: DirectBench, iterations: number, threads: number): number;
}

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898) * 0.5;
  return a;
}

function matmulWorkload(name: string, attrs: MatMulAttrs): KernelWorkload {
  const { m, k, n } = attrs;
  return {
    name,
    flops: 2 * m * k * n,
    prepare: (b) => {
      const a = random(m * k), w = random(k * n), out = new Float32Array(m * n);
      return () => b.matmul(a, w, null, out, attrs);
    },
    direct: (bench, iterations, threads) => bench.benchMatmulDirect(attrs, iterations, threads),
  };
}

const CONV: Conv2dAttrs = { n: 128, h: 32, w: 32, c: 32, o: 32, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 32, outW: 32 };

function convWorkload(name: string, pass: ConvPass, attrs: Conv2dAttrs): KernelWorkload {
  const { n, h, w, c, o, kh, kw, outH, outW } = attrs;
  return {
    name,
    flops: 2 * n * outH * outW * o * c * kh * kw,
    prepare: (b) => {
      const x = random(n * h * w * c), wt = random(o * c * kh * kw), y = random(n * outH * outW * o);
      // the layouts a training step hands these kernels (random data: the order does not matter)
      const a: Conv2dAttrs = { ...attrs, xBlocked: c % b.channelBlock === 0, yBlocked: o % b.channelBlock === 0 };
      if (pass === 'forward') return () => b.conv2dForward(x, wt, null, y, a);
      if (pass === 'backwardData') return () => b.conv2dBackwardData(y, wt, x, a);
      return () => b.conv2dBackwardWeights(x, y, wt, null, a);
    },
    direct: (bench, iterations, threads) => bench.benchConvDirect(pass, attrs, iterations, threads),
    directNhwc: (bench, iterations, threads) => bench.benchConvDirect(pass, attrs, iterations, threads, 'nhwc'),
  };
}

const mm = (m: number, k: number, n: number, transA = false, transB = false): MatMulAttrs => ({ m, k, n, transA, transB, accumulate: false });

/** Names match bench/torch_bench.py's workloads where PyTorch runs the same thing. */
export const KERNEL_WORKLOADS: KernelWorkload[] = [
  matmulWorkload('matmul-2048', mm(2048, 2048, 2048)),
  matmulWorkload('matmul-128x784x1024', mm(128, 784, 1024)),
  matmulWorkload('matmul-128x1024x5120', mm(128, 1024, 5120)),
  // Linear 1024 -> 5120 at batch 128, backward: dX = dY W and dW = dY^T X.
  matmulWorkload('matmul-dx-128x5120x1024', mm(128, 5120, 1024)),
  matmulWorkload('matmul-dw-5120x128x1024', mm(5120, 128, 1024, true, false)),
  convWorkload('conv-fwd', 'forward', CONV),
  convWorkload('conv-bwd-data', 'backwardData', CONV),
  convWorkload('conv-bwd-weights', 'backwardWeights', CONV),
];

export interface KernelResult {
  workload: string;
  threads: number;
  gflops: number;
  directGflops: number;
  /** convolutions: oneDNN directly on NHWC activations */
  directNhwcGflops?: number;
}

/**
 * Binding and direct oneDNN timed in alternating rounds, the median of each side kept: this
 * shared machine drifts by tens of percent over seconds, and two back-to-back blocks would
 * measure the drift as much as the binding.
 */
export function runKernel(w: KernelWorkload, backend: Backend, direct: DirectBench, threads: number, timing: TimingOptions): KernelResult {
  backend.setNumThreads(threads);
  const call = w.prepare(backend);
  const perRound = Math.max(1, Math.ceil(timing.minSeconds / timing.minRounds / secondsPerCall(call, { warmup: 1, minRounds: 1, minSeconds: 0 })));
  const bound: number[] = [], native: number[] = [], nativeNhwc: number[] = [];
  for (let round = 0; round < timing.minRounds; round++) {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) call();
    bound.push((performance.now() - t0) / 1000 / perRound);
    native.push(w.direct(direct, perRound, threads));
    if (w.directNhwc) nativeNhwc.push(w.directNhwc(direct, perRound, threads));
  }
  const result: KernelResult = { workload: w.name, threads, gflops: w.flops / median(bound) / 1e9, directGflops: w.flops / median(native) / 1e9 };
  if (nativeNhwc.length > 0) result.directNhwcGflops = w.flops / median(nativeNhwc) / 1e9;
  return result;
}
