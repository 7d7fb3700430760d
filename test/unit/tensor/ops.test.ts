// Every differentiable op against finite differences, through the autograd engine, on the
// reference backend.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { activation } from '../../../src/tensor/ops/activation.js';
import { conv2d } from '../../../src/tensor/ops/conv.js';
import { linear } from '../../../src/tensor/ops/dense.js';
import { add, flatten } from '../../../src/tensor/ops/elementwise.js';
import { meanSquaredError, softmaxCrossEntropy } from '../../../src/tensor/ops/loss.js';
import { batchNorm } from '../../../src/tensor/ops/norm.js';
import { globalAvgPool, maxPool2d } from '../../../src/tensor/ops/pool.js';
import { Rng } from '../../../src/tensor/rng.js';
import { ShapeError } from '../../../src/tensor/errors.js';
import { gradError, randomTensor } from '../../util/gradcheck.js';

// Relative tolerance for central differences with h = 1e-2 on float32 data (see gradcheck.ts).
const TOL = 5e-3;

before(() => setBackend(referenceBackend));

test('linear: gradients of x, weight and bias match finite differences', () => {
  const rng = new Rng(1);
  const x = randomTensor([3, 4], rng), w = randomTensor([5, 4], rng), b = randomTensor([5], rng);
  assert.ok(gradError(([x, w, b]) => linear(x!, w!, b!), [x, w, b]) < TOL);
});

test('linear: a second backward pass accumulates into the weight gradient', () => {
  const rng = new Rng(2);
  const x = randomTensor([2, 3], rng, false), w = randomTensor([4, 3], rng);
  const target = randomTensor([2, 4], rng, false);
  meanSquaredError(linear(x, w, null), target).backward();
  const once = w.grad!.slice();
  meanSquaredError(linear(x, w, null), target).backward();
  w.grad!.forEach((g, i) => assert.ok(Math.abs(g - 2 * once[i]!) < 1e-6));
});

test('conv2d: stride 1 pad 1 and stride 2 pad 0, non-square, with bias', () => {
  const rng = new Rng(3);
  for (const [stride, padding, k] of [[1, 1, 3], [2, 0, 3], [2, 0, 1]] as const) {
    const x = randomTensor([2, 5, 6, 3], rng), w = randomTensor([4, 3, k, k], rng, true, 0.5), b = randomTensor([4], rng);
    const err = gradError(([x, w, b]) => conv2d(x!, w!, b!, { stride, padding }), [x, w, b]);
    assert.ok(err < TOL, `stride ${stride} padding ${padding} k ${k}: error ${err}`);
  }
});

test('conv2d with a fused activation: the separate ops\' output, and gradients that match finite differences', () => {
  const rng = new Rng(13);
  for (const [kind, alpha] of [['elu', 0.7], ['tanh', 0], ['sigmoid', 0], ['relu', 0]] as const) {
    const x = randomTensor([2, 5, 6, 3], rng), w = randomTensor([4, 3, 3, 3], rng, true, 0.5), b = randomTensor([4], rng);
    const fused = conv2d(x, w, b, { stride: 1, padding: 1, activation: kind, alpha });
    const separate = activation(kind, conv2d(x, w, b, { stride: 1, padding: 1 }), alpha);
    assert.deepEqual(fused.data, separate.data, `${kind}: forward`);
    // relu's kink makes central differences unreliable at pre-activations near 0
    if (kind === 'relu') continue;
    const err = gradError(([x, w, b]) => conv2d(x!, w!, b!, { stride: 1, padding: 1, activation: kind, alpha }), [x, w, b]);
    assert.ok(err < TOL, `${kind}: error ${err}`);
  }
});

test('maxPool2d and globalAvgPool', () => {
  const rng = new Rng(4);
  const x = randomTensor([2, 4, 6, 3], rng);
  // Distinct values 0.1 apart: a finite-difference step of 1e-2 never changes which is the max.
  const order = rng.permutation(x.size);
  order.forEach((v, i) => (x.data[i] = v * 0.1));
  assert.ok(gradError(([x]) => maxPool2d(x!, 2), [x]) < TOL);
  x.data.forEach((_, i) => (x.data[i] = rng.normal()));
  assert.ok(gradError(([x]) => globalAvgPool(x!), [x]) < TOL);
});

test('activations', () => {
  const rng = new Rng(5);
  for (const kind of ['relu', 'elu', 'sigmoid', 'tanh'] as const) {
    const x = randomTensor([4, 7], rng);
    assert.ok(gradError(([x]) => activation(kind, x!), [x]) < TOL, kind);
  }
});

test('batchNorm in training mode: x, gamma and beta; running statistics move by momentum', () => {
  const rng = new Rng(6);
  const x = randomTensor([3, 2, 2, 4], rng), gamma = randomTensor([4], rng), beta = randomTensor([4], rng);
  const fresh = () => ({ runningMean: new Float32Array(4), runningVar: new Float32Array(4).fill(1), momentum: 0.1, eps: 1e-5 });
  assert.ok(gradError(([x, g, b]) => batchNorm(x!, g!, b!, fresh(), true), [x, gamma, beta]) < TOL);
  const state = fresh();
  batchNorm(x, gamma, beta, state, true);
  // channel 0's batch mean, computed here independently
  let mean = 0;
  for (let i = 0; i < 12; i++) mean += x.data[i * 4]!;
  mean /= 12;
  assert.ok(Math.abs(state.runningMean[0]! - 0.1 * mean) < 1e-6);
});

test('batchNorm with relu fused: finite differences, and the same output and gradients as batchNorm then relu', () => {
  const rng = new Rng(16);
  const x = randomTensor([3, 2, 2, 8], rng), gamma = randomTensor([8], rng), beta = randomTensor([8], rng);
  const fresh = () => ({ runningMean: new Float32Array(8), runningVar: new Float32Array(8).fill(1), momentum: 0.1, eps: 1e-5 });
  assert.ok(gradError(([x, g, b]) => batchNorm(x!, g!, b!, fresh(), true, true), [x, gamma, beta]) < TOL);
  const run = (fused: boolean, training: boolean) => {
    for (const t of [x, gamma, beta]) t.grad = null;
    const y = fused ? batchNorm(x, gamma, beta, fresh(), training, true) : activation('relu', batchNorm(x, gamma, beta, fresh(), training));
    if (training) meanSquaredError(y, randomTensor([3, 2, 2, 8], new Rng(3), false)).backward();
    // + 0: a masked gradient may be -0 one way and 0 the other
    return { y: Array.from(y.data), grads: [x, gamma, beta].map((t) => Array.from(t.grad ?? [], (v) => v + 0)) };
  };
  const fused = run(true, true);
  assert.ok(fused.y.some((v) => v === 0) && fused.y.some((v) => v > 0), 'the relu cuts some outputs and keeps others');
  assert.deepEqual(fused, run(false, true));
  assert.deepEqual(run(true, false).y, run(false, false).y, 'eval mode');
});

test('add and flatten pass gradients through; softmaxCrossEntropy', () => {
  const rng = new Rng(7);
  const a = randomTensor([2, 3, 2, 1], rng), b = randomTensor([2, 3, 2, 1], rng);
  assert.ok(gradError(([a, b]) => flatten(add(a!, b!)), [a, b]) < TOL);
  const logits = randomTensor([4, 5], rng);
  const labels = Int32Array.from([0, 4, 2, 2]);
  const loss = softmaxCrossEntropy(logits, labels);
  loss.backward();
  // d/dlogits of the mean CE: rows of (softmax - onehot) / 4 sum to zero
  for (let r = 0; r < 4; r++) {
    let s = 0;
    for (let c = 0; c < 5; c++) s += logits.grad![r * 5 + c]!;
    assert.ok(Math.abs(s) < 1e-6);
  }
});

test('shape errors name both shapes and the op', () => {
  const rng = new Rng(8);
  assert.throws(() => linear(randomTensor([2, 3], rng), randomTensor([4, 5], rng), null),
    (e: unknown) => e instanceof ShapeError && /linear: expected x \[batch, 5\] for weight \[4, 5\], got x \[2, 3\]/.test(e.message));
  assert.throws(() => conv2d(randomTensor([1, 4, 4, 2], rng), randomTensor([3, 5, 3, 3], rng), null, { stride: 1, padding: 1 }),
    (e: unknown) => e instanceof ShapeError && /conv2d: expected x \[n, h, w, 5\].*got x \[1, 4, 4, 2\]/.test(e.message));
  assert.throws(() => add(randomTensor([2], rng), randomTensor([3], rng)), /add: expected equal shapes, got \[2\] and \[3\]/);
});
