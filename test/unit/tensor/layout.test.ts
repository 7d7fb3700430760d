// The blocked image layout on the reference backend: the reorder's index formula, Tensor's guards,
// toLayout's gradient, and a small network whose loss and every gradient are bit-identical with
// blocked activations on and off (the reference computes blocked kernels by reordering around
// its NHWC ones, so any difference would be a layout bug, not rounding).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend as R } from '../../../src/backend/reference_backend.js';
import { ShapeError } from '../../../src/tensor/errors.js';
import { setBlockedImages } from '../../../src/tensor/layout.js';
import { activation } from '../../../src/tensor/ops/activation.js';
import { conv2d } from '../../../src/tensor/ops/conv.js';
import { linear } from '../../../src/tensor/ops/dense.js';
import { add, flatten } from '../../../src/tensor/ops/elementwise.js';
import { softmaxCrossEntropy } from '../../../src/tensor/ops/loss.js';
import { batchNorm } from '../../../src/tensor/ops/norm.js';
import { globalAvgPool, maxPool2d } from '../../../src/tensor/ops/pool.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { gradError, randomTensor } from '../../util/gradcheck.js';

before(() => setBackend(R));
after(() => setBlockedImages('auto'));

test('reorderImages puts NHWC element (n, h, w, c) at ((n * C/8 + c/8) * H*W + h*W + w) * 8 + c%8, and back', () => {
  const [N, H, W, C] = [2, 3, 2, 16];
  const x = Float32Array.from({ length: N * H * W * C }, (_, i) => i);
  const blocked = new Float32Array(x.length);
  R.reorderImages(x, blocked, { n: N, h: H, w: W, c: C, toBlocked: true });
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        for (let c = 0; c < C; c++) {
          const at = ((n * (C / 8) + Math.floor(c / 8)) * H * W + h * W + w) * 8 + (c % 8);
          assert.equal(blocked[at], ((n * H + h) * W + w) * C + c);
        }
      }
    }
  }
  const back = new Float32Array(x.length);
  R.reorderImages(blocked, back, { n: N, h: H, w: W, c: C, toBlocked: false });
  assert.deepEqual(back, x);
  assert.throws(() => R.reorderImages(x, blocked, { n: 1, h: 1, w: 1, c: 12, toBlocked: true }), /multiple of 8, got c = 12/);
});

test('a blocked tensor must be an image with whole channel blocks, and its data cannot be read as NHWC', () => {
  assert.throws(() => new Tensor(new Float32Array(16), [2, 8], false, 'blocked'), ShapeError);
  assert.throws(() => new Tensor(new Float32Array(12), [1, 1, 1, 12], false, 'blocked'), /multiple of 8/);
  const t = new Tensor(new Float32Array(16), [1, 1, 2, 8], false, 'blocked');
  assert.throws(() => t.data, /blocked layout: call toLayout\('nhwc'\)/);
  assert.equal(t.detach().layout, 'blocked');
  assert.equal(t.toLayout('blocked'), t);
});

test('toLayout round trip is exact, reshape of a blocked tensor sees NHWC order, and the reorder is differentiable', () => {
  const rng = new Rng(7);
  const x = randomTensor([2, 3, 2, 8], rng);
  const round = x.toLayout('blocked').toLayout('nhwc');
  assert.deepEqual(round.data, x.data);
  assert.deepEqual(x.toLayout('blocked').reshape([2, 48]).data, x.data);
  const err = gradError(([x]) => activation('elu', x!.toLayout('blocked')).toLayout('nhwc'), [x]);
  assert.ok(err < 5e-3, `error ${err}`);
});

/** conv-BN-ReLU, max pool, a residual add with a plain tensor, global average, dense, loss. */
function smallNet(blocked: boolean): { loss: number; grads: Float32Array[] } {
  setBlockedImages(blocked ? 'on' : 'off');
  const rng = new Rng(11);
  const x = randomTensor([2, 6, 6, 3], rng, false);
  const w1 = randomTensor([8, 3, 3, 3], rng, true, 0.5), w2 = randomTensor([16, 8, 3, 3], rng, true, 0.3);
  const gamma = randomTensor([8], rng), beta = randomTensor([8], rng);
  const wFc = randomTensor([4, 16], rng), skip = randomTensor([2, 3, 3, 16], rng);
  const state = { runningMean: new Float32Array(8), runningVar: new Float32Array(8).fill(1), momentum: 0.1, eps: 1e-5 };
  let h = conv2d(x, w1, null, { stride: 1, padding: 1 });
  assert.equal(h.layout, blocked ? 'blocked' : 'nhwc');
  h = activation('relu', batchNorm(h, gamma, beta, state, true));
  h = maxPool2d(h, 2);
  h = conv2d(h, w2, null, { stride: 1, padding: 1 });
  h = add(h, skip);
  const logits = linear(flatten(globalAvgPool(h)), wFc, null);
  const loss = softmaxCrossEntropy(logits, Int32Array.from([1, 3]));
  loss.backward();
  return { loss: loss.data[0]!, grads: [w1, w2, gamma, beta, wFc, skip].map((t) => t.grad!) };
}

test('a conv net computes the same loss and gradients, bit for bit, with blocked activations on and off', () => {
  const off = smallNet(false);
  const on = smallNet(true);
  assert.equal(on.loss, off.loss);
  on.grads.forEach((g, i) => assert.deepEqual(g, off.grads[i], `gradient ${i}`));
});

// (max pooling is left out here: a step of h = 1e-2 moves maxima across windows; the bit-identity
// test above covers it)
test('gradients through blocked conv, batch norm and add match finite differences', () => {
  setBlockedImages('on');
  try {
    const rng = new Rng(12);
    const x = randomTensor([2, 4, 4, 8], rng), w = randomTensor([8, 8, 3, 3], rng, true, 0.3);
    const gamma = randomTensor([8], rng), beta = randomTensor([8], rng), other = randomTensor([2, 4, 4, 8], rng);
    const state = { runningMean: new Float32Array(8), runningVar: new Float32Array(8).fill(1), momentum: 0.1, eps: 1e-5 };
    const err = gradError(([x, w, g, b, o]) => {
      const h = batchNorm(conv2d(x!.toLayout('blocked'), w!, null, { stride: 1, padding: 1 }), g!, b!, state, true);
      return add(h, o!).toLayout('nhwc');
    }, [x, w, gamma, beta, other]);
    assert.ok(err < 5e-3, `error ${err}`);
  } finally {
    setBlockedImages('auto');
  }
});
