// The per-thread free list of gradient buffers: reuse across steps, and no growth over a long run.
import assert from 'node:assert/strict';
import { before, beforeEach, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { conv2d } from '../../../src/tensor/ops/conv.js';
import { linear } from '../../../src/tensor/ops/dense.js';
import { meanSquaredError } from '../../../src/tensor/ops/loss.js';
import { batchNorm } from '../../../src/tensor/ops/norm.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor, freeGradBuffer, gradBuffer, gradBufferStats, releaseGrad, trimGradBuffers } from '../../../src/tensor/tensor.js';

before(() => setBackend(referenceBackend));

// two trims with nothing taken in between empty the lists, whatever earlier tests left there
beforeEach(() => {
  trimGradBuffers();
  trimGradBuffers();
});

test('buffers given back and never asked for again are dropped by the second trim', () => {
  assert.deepEqual(gradBufferStats(), { buffers: 0, bytes: 0 });
  for (let i = 0; i < 100; i++) freeGradBuffer(new Float32Array(1000));
  assert.deepEqual(gradBufferStats(), { buffers: 100, bytes: 400_000 });
  // they came within this window, in which the list never held fewer than none
  trimGradBuffers();
  assert.equal(gradBufferStats().buffers, 100);
  // a whole window without a taker
  trimGradBuffers();
  assert.deepEqual(gradBufferStats(), { buffers: 0, bytes: 0 });
});

test('buffers each step takes again survive every trim and are the same arrays', () => {
  const a = gradBuffer(777), b = gradBuffer(777);
  freeGradBuffer(a);
  freeGradBuffer(b);
  for (let step = 0; step < 5; step++) {
    trimGradBuffers();
    const x = gradBuffer(777), y = gradBuffer(777);
    assert.deepEqual(new Set([x, y]), new Set([a, b]));
    freeGradBuffer(x);
    freeGradBuffer(y);
  }
  assert.deepEqual(gradBufferStats(), { buffers: 2, bytes: 2 * 777 * 4 });
});

test('a trim keeps as many buffers of a length as were in use at once, and drops the rest', () => {
  const kept = [gradBuffer(64), gradBuffer(64), gradBuffer(64), gradBuffer(64)];
  kept.forEach(freeGradBuffer);
  trimGradBuffers();
  // this window's steps need one buffer of the length at a time: the list never falls below 3
  for (let step = 0; step < 3; step++) freeGradBuffer(gradBuffer(64));
  trimGradBuffers();
  assert.deepEqual(gradBufferStats(), { buffers: 1, bytes: 64 * 4 });
  // the newest is kept: the one the steps were using
  assert.equal(gradBuffer(64), kept[3]);
});

test('views and zero-length arrays are not kept', () => {
  const whole = new Float32Array(32);
  freeGradBuffer(whole.subarray(8, 16));
  freeGradBuffer(new Float32Array(0));
  assert.deepEqual(gradBufferStats(), { buffers: 0, bytes: 0 });
});

test('training steps of dense, convolution and batch norm layers give back what they take', () => {
  // Bias and batch-norm gradients and the loss seed once came from `new Float32Array` and were
  // given back by zeroGrad, so the free list grew by several buffers every step, for good.
  const rng = new Rng(3);
  const param = (shape: number[]): Tensor => {
    const t = Tensor.zeros(shape, true);
    for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * 0.1;
    return t;
  };
  const convW = param([4, 2, 3, 3]), convB = param([4]);
  const gamma = param([4]), beta = param([4]);
  const denseW = param([3, 4 * 4 * 4]), denseB = param([3]);
  const params = [convW, convB, gamma, beta, denseW, denseB];
  const bn = { runningMean: new Float32Array(4), runningVar: new Float32Array(4).fill(1), momentum: 0.1, eps: 1e-5 };
  const x = Tensor.from(Array.from({ length: 2 * 4 * 4 * 2 }, () => rng.normal()), [2, 4, 4, 2]);
  const target = Tensor.zeros([2, 3]);
  const held: number[] = [];
  for (let step = 0; step < 40; step++) {
    const h = batchNorm(conv2d(x, convW, convB, { stride: 1, padding: 1 }), gamma, beta, bn, true);
    meanSquaredError(linear(h.reshape([2, 64]), denseW, denseB), target).backward();
    for (const p of params) {
      assert.ok(p.grad !== null);
      releaseGrad(p);
    }
    held.push(gradBufferStats().buffers);
  }
  assert.ok(held[0]! > 0);
  assert.equal(held[39], held[1], `free buffers after each step: ${held.join(' ')}`);
});
