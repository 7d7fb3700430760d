// The native runtime around the kernels: thread control (per calling thread, also in
// worker_threads running concurrently with the main thread), machine information, the direct
// benchmarks, and error messages that name the kernel and the argument.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';

import type { Activation, Conv2dAttrs, MatMulAttrs } from '../../src/backend/kernel_names.js';
import { loadNative } from '../../src/backend/load_native.js';
import { nativeBackend as N, nativeInfo } from '../../src/backend/native_backend.js';
import { loadDirectBench } from '../../src/bench/kernels.js';
import { referenceBackend as R } from '../../src/backend/reference_backend.js';
import { assertClose, randoms } from './native_check.js';

const rnd = randoms(606);
const MM: MatMulAttrs = { m: 2, k: 3, n: 4, transA: false, transB: false, accumulate: false };
const CONV: Conv2dAttrs = { n: 1, h: 4, w: 4, c: 2, o: 3, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 4, outW: 4 };

test('setNumThreads / getNumThreads round-trip on the calling thread', () => {
  const before = N.getNumThreads();
  try {
    for (const n of [1, 2, 3]) {
      N.setNumThreads(n);
      assert.equal(N.getNumThreads(), n);
      // a kernel after the change runs (its primitive is cached per thread count)
      const out = new Float32Array(8);
      N.matmul(new Float32Array(6).fill(1), new Float32Array(12).fill(1), null, out, MM);
      assert.deepEqual(out, new Float32Array(8).fill(3));
    }
    assert.throws(() => N.setNumThreads(0), /^RangeError: setNumThreads: expected an integer from 1 to 1024 for n, got 0$/);
    assert.throws(() => N.setNumThreads(1.5), /setNumThreads: expected an integer from 1 to 1024 for n, got 1.5/);
  } finally {
    N.setNumThreads(before);
  }
});

test('cpuIsa and nativeInfo describe oneDNN and the machine', () => {
  const isa = N.cpuIsa();
  assert.match(isa, /^(sse41|avx|avx2|avx2_vnni|avx512_\w+)$/);
  const info = nativeInfo();
  assert.match(info.onednnVersion, /^\d+\.\d+\.\d+$/);
  assert.equal(info.isa, isa);
  assert.equal(info.cpuRuntime, 'omp');
  assert.equal(info.threads, N.getNumThreads());
});

test('worker_threads: each thread keeps its own thread count and its own primitives, running concurrently', async () => {
  const a = rnd.normal(48 * 40);
  const b = rnd.normal(40 * 56);
  const attrs: MatMulAttrs = { m: 48, k: 40, n: 56, transA: false, transB: true, accumulate: false };
  const expected = new Float32Array(48 * 56);
  R.matmul(a, b, null, expected, attrs);

  const before = N.getNumThreads();
  N.setNumThreads(2);
  const moduleUrl = new URL('../../src/backend/native_backend.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.moduleUrl).then(({ nativeBackend: N }) => {
      N.setNumThreads(1);
      const out = new Float32Array(48 * 56);
      for (let i = 0; i < 300; i++) N.matmul(workerData.a, workerData.b, null, out, workerData.attrs);
      parentPort.postMessage({ out, threads: N.getNumThreads() });
    });`;
  const worker = new Worker(code, { eval: true, workerData: { moduleUrl, a, b, attrs } });
  const result = new Promise<{ out: Float32Array; threads: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  try {
    // the main thread computes the same product meanwhile
    const out = new Float32Array(48 * 56);
    for (let i = 0; i < 300; i++) N.matmul(a, b, null, out, attrs);
    const fromWorker = await result;
    assert.equal(fromWorker.threads, 1, 'the worker sees its own setting');
    assert.equal(N.getNumThreads(), 2, 'the worker did not change the main thread');
    assertClose(out, expected, 'main thread', { terms: 40 });
    assertClose(fromWorker.out, expected, 'worker', { terms: 40 });
  } finally {
    await worker.terminate();
    N.setNumThreads(before);
  }
});

test('worker_threads: a worker terminated in the middle of kernel calls, good and bad, stops without taking the process down', async () => {
  // A pipeline whose stage fails terminates the other stages wherever they are. A kernel call then
  // cannot throw into JS; node-addon-api used to throw again from its own catch block, and
  // std::terminate aborted this process (binding.gyp's NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS).
  const moduleUrl = new URL('../../src/backend/load_native.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.moduleUrl).then(({ loadNative }) => {
      const addon = loadNative();
      const a = new Float32Array(64 * 64).fill(1);
      const out = new Float32Array(64 * 64);
      const attrs = { m: 64, k: 64, n: 64, transA: false, transB: false, accumulate: false };
      parentPort.postMessage('running');
      for (;;) {
        addon.matmul(a, a, null, out, attrs);
        try { addon.matmul(a, a, null, out, { ...attrs, m: 65 }); } catch {}
      }
    });`;
  for (let round = 0; round < 60; round++) {
    const worker = new Worker(code, { eval: true, workerData: { moduleUrl } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, round % 7));
    assert.equal(await worker.terminate(), 1, `round ${round}: the worker was terminated`);
  }
});

const direct = loadDirectBench();

test('the direct benchmarks live in their own addon: the one every run loads has none of them', () => {
  const production = loadNative() as unknown as Record<string, unknown>;
  assert.equal(typeof production.matmul, 'function');
  assert.equal(production.benchMatmulDirect, undefined);
  assert.equal(production.benchConvDirect, undefined);
  assert.equal(typeof direct.benchMatmulDirect, 'function');
  assert.equal(typeof direct.benchConvDirect, 'function');
});

test('direct benchmarks return seconds per iteration and leave the thread count alone', () => {
  const before = N.getNumThreads();
  const mm = direct.benchMatmulDirect({ m: 16, k: 16, n: 16, transA: false, transB: false, accumulate: false }, 5, 1);
  assert.ok(Number.isFinite(mm) && mm > 0, `matmul: ${mm}`);
  for (const pass of ['forward', 'backwardData', 'backwardWeights'] as const) {
    const s = direct.benchConvDirect(pass, CONV, 3, 1);
    assert.ok(Number.isFinite(s) && s > 0, `${pass}: ${s}`);
  }
  for (const pass of ['forward', 'backwardData', 'backwardWeights'] as const) {
    const s = direct.benchConvDirect(pass, CONV, 3, 1, 'nhwc');
    assert.ok(Number.isFinite(s) && s > 0, `${pass} on NHWC: ${s}`);
  }
  assert.equal(N.getNumThreads(), before);
  assert.throws(() => direct.benchConvDirect('sideways' as 'forward', CONV, 1, 1), /^Error: benchConvDirect: expected 'forward'/);
  assert.throws(() => direct.benchConvDirect('forward', CONV, 1, 1, 'nchw' as 'nhwc'), /^Error: benchConvDirect: expected 'any' \| 'nhwc' for layout, got 'nchw'$/);
});

test("the direct convolution benchmark's 'nhwc' layout runs oneDNN on NHWC activations, 'any' on its own", () => {
  // oneDNN's verbose log names each primitive's memory formats: acdb is NHWC.
  const moduleUrl = new URL('../../src/bench/kernels.js', import.meta.url).href;
  const attrs = JSON.stringify({ ...CONV, c: 16, o: 16 });
  const code = `import(${JSON.stringify(moduleUrl)}).then(({ loadDirectBench }) => {
    for (const layout of ['nhwc', 'any']) { console.log('layout ' + layout); loadDirectBench().benchConvDirect('forward', ${attrs}, 1, 1, layout); }
  });`;
  const run = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, DNNL_VERBOSE: '1' }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const [nhwc, any] = run.stdout.split(/^layout any$/m).map((part) => part.split('\n').filter((l) => l.includes(',exec,') && l.includes(',convolution,')));
  assert.ok(nhwc!.length > 0 && any!.length > 0, run.stdout);
  assert.ok(nhwc!.every((l) => /src_f32::blocked:acdb:/.test(l) && /dst_f32::blocked:acdb:/.test(l)), nhwc!.join('\n'));
  assert.ok(any!.every((l) => !/src_f32::blocked:acdb:/.test(l)), any!.join('\n'));
});

test('a buffer of the wrong length is reported with the kernel, the argument and both sizes', () => {
  const f = (n: number) => new Float32Array(n);
  assert.throws(() => N.matmul(f(6), f(12), null, f(3), MM), {
    name: 'RangeError',
    message: 'matmul: expected at least 8 elements (m*n) for out, got 3 elements',
  });
  assert.throws(() => N.matmul(f(6), f(12), f(2), f(8), MM), /^RangeError: matmul: expected at least 4 elements \(n\) for bias, got 2 elements$/);
  assert.throws(() => N.matmul(f(6), f(12), null, f(8), { ...MM, m: -1 }), /^RangeError: matmul: expected a non-negative integer for m, got -1$/);
  assert.throws(() => N.conv2dForward(f(32), f(53), null, f(48), CONV), /^RangeError: conv2dForward: expected at least 54 elements \(o\*c\*kh\*kw\) for weight, got 53 elements$/);
  assert.throws(() => N.conv2dBackwardData(f(47), f(54), f(32), CONV), /^RangeError: conv2dBackwardData: .* for dy, got 47 elements$/);
  assert.throws(() => N.conv2dBackwardWeights(f(32), f(48), f(54), f(2), CONV), /^RangeError: conv2dBackwardWeights: .* for dBias, got 2 elements$/);
  const pool = { ...CONV, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 2, outW: 2 };
  assert.throws(() => N.maxPool2dForward(f(32), f(7), new Uint8Array(1024), pool), /^RangeError: maxPool2dForward: .* for y, got 7 elements$/);
  assert.throws(() => N.globalAvgPoolBackward(f(1), f(32), { n: 1, h: 4, w: 4, c: 2 }), /^RangeError: globalAvgPoolBackward: .* for dy, got 1 elements$/);
  const bn = { rows: 4, c: 2, eps: 1e-5 };
  assert.throws(() => N.batchNormForwardTraining(f(8), f(2), f(2), f(8), f(1), f(2), bn), /^RangeError: batchNormForwardTraining: .* for mean, got 1 elements$/);
  assert.throws(() => N.batchNormBackward(f(8), f(8), f(2), f(2), f(2), f(8), f(2), f(1), bn), /^RangeError: batchNormBackward: .* for dBeta, got 1 elements$/);
  assert.throws(() => N.activationForward('relu', f(4), f(3), 0), /^RangeError: activationForward: expected 4 elements \(as x\) for y, got 3 elements$/);
  assert.throws(() => N.activationForward('gelu' as Activation, f(4), f(4), 0), /^RangeError: activationForward: expected 'relu' \| 'elu' \| 'sigmoid' \| 'tanh' for kind, got gelu$/);
});

test('the addon itself rejects bad arguments with messages that start with the kernel name', () => {
  const addon = loadNative();
  const f = (n: number) => new Float32Array(n);
  assert.throws(() => addon.matmul(f(6), f(12), null, f(3), MM), /^Error: matmul: out holds 3 elements, the shape needs 8$/);
  assert.throws(() => addon.matmul([1, 2] as unknown as Float32Array, f(12), null, f(8), MM), /^Error: matmul: expected a Float32Array for a$/);
  assert.throws(() => addon.matmul(f(6), f(12), null, f(8), { m: 2 } as MatMulAttrs), /^Error: matmul: expected an integer attribute k$/);
  assert.throws(() => addon.conv2dForward(f(32), f(54), null, f(48), { ...CONV, strideH: 2, outH: 1 }),
    /^Error: conv2dForward: outH\/outW \(1x4\) do not follow from h\/w 4x4, window size, stride and padding$/);
  assert.throws(() => addon.maxPool2dForward(f(32), f(8), new Uint8Array(0), { ...CONV, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 2, outW: 2 }),
    /^Error: maxPool2dForward: workspace holds 0 elements, the shape needs \d+$/);
  assert.throws(() => addon.activationForward('elu', f(4), f(4), -1), /^Error: activationForward: expected alpha >= 0 for elu/);
  // a oneDNN failure comes back as an Error naming the kernel too (here: a 4 TB operand)
  assert.throws(() => direct.benchMatmulDirect({ m: 1e6, k: 1e6, n: 1, transA: false, transB: false, accumulate: false }, 1, 1),
    /^Error: benchMatmulDirect: oneDNN: could not create a memory object \(status \d+\)$/);
});
