// Optimizers on the reference backend: constructor checks, zeroGrad, state round trip, and a
// quadratic that each must minimise.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { Adam } from '../../../src/optim/adam.js';
import { ConfigError } from '../../../src/optim/optimizer.js';
import { paperSchedule, scheduledLr } from '../../../src/optim/schedule.js';
import { SGD } from '../../../src/optim/sgd.js';
import { meanSquaredError } from '../../../src/tensor/ops/loss.js';
import { Tensor } from '../../../src/tensor/tensor.js';

before(() => setBackend(referenceBackend));

test('bad hyperparameters are rejected with the value', () => {
  const p = [Tensor.zeros([2], true)];
  assert.throws(() => new Adam(p, { lr: -1 }), (e: unknown) => e instanceof ConfigError && /Adam: expected 0 <= lr <= Infinity, got -1/.test(e.message));
  assert.throws(() => new Adam(p, { beta1: 1.5 }), /Adam: expected 0 <= beta1 <= 1, got 1.5/);
  assert.throws(() => new SGD(p, { nesterov: true }), /SGD: expected momentum > 0 with nesterov, got 0/);
});

for (const [name, make] of [
  ['adam', (p: Tensor[]) => new Adam(p, { lr: 0.1 })],
  ['adamw', (p: Tensor[]) => new Adam(p, { lr: 0.1, weightDecay: 1e-3, decoupled: true })],
  ['sgd+nesterov', (p: Tensor[]) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true })],
] as const) {
  test(`${name} minimises a quadratic`, () => {
    const w = Tensor.from([3, -2, 5], [3], true);
    const target = Tensor.from([1, 1, 1], [3]);
    const opt = make([w]);
    for (let i = 0; i < 200; i++) {
      opt.zeroGrad();
      meanSquaredError(w, target).backward();
      opt.step();
    }
    for (const v of w.data) assert.ok(Math.abs(v - 1) < 0.05, `${name}: ${v}`);
    assert.equal(opt.stepCount, 200);
  });
}

test('state round trip restores the trajectory exactly', () => {
  const run = (steps: number, resumeAt?: number): Float32Array => {
    const w = Tensor.from([3, -2], [2], true);
    let opt = new Adam([w], { lr: 0.05 });
    for (let i = 0; i < steps; i++) {
      if (i === resumeAt) {
        const saved = structuredClone(opt.state());
        opt = new Adam([w], { lr: 0.05 });
        opt.loadState(saved);
      }
      opt.zeroGrad();
      meanSquaredError(w, Tensor.zeros([2])).backward();
      opt.step();
    }
    return w.data;
  };
  assert.deepEqual(run(10, 4), run(10));
  const opt = new Adam([Tensor.zeros([2], true)]);
  assert.throws(() => opt.loadState({ step: 1, lr: 1, buffers: { m: [new Float32Array(3)], v: [new Float32Array(2)] } }), /buffer 0 has 3 elements, expected 2/);
});

test("the paper's schedule: x0.1 at 40/60/80 %, x0.5 at 90 %", () => {
  const lrs = Array.from({ length: 10 }, (_, e) => scheduledLr(1, e, 10, paperSchedule));
  const expected = [1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.0005];
  lrs.forEach((lr, i) => assert.ok(Math.abs(lr - expected[i]!) < 1e-12, `epoch ${i}: ${lr}`));
  assert.equal(scheduledLr(1, 0, 1, paperSchedule), 1);
});

test('Adam lrScale: a scaled parameter moves by its multiple of lr; a tensor that is no parameter, or a scale <= 0, is refused', () => {
  const a = Tensor.from([1, -1], [2], true), b = Tensor.from([1, -1], [2], true);
  const opt = new Adam([a, b], { lr: 0.1, lrScale: new Map([[b, 0.2]]) });
  opt.zeroGrad();
  meanSquaredError(a, Tensor.zeros([2])).backward();
  meanSquaredError(b, Tensor.zeros([2])).backward();
  opt.step();
  // Adam's first step moves each weight by lr * g / (|g| + eps), about lr
  [0.9, -0.9].forEach((v, i) => assert.ok(Math.abs(a.data[i]! - v) < 1e-6, `a[${i}] = ${a.data[i]}`));
  [0.98, -0.98].forEach((v, i) => assert.ok(Math.abs(b.data[i]! - v) < 1e-6, `b[${i}] = ${b.data[i]}`));
  assert.throws(() => new Adam([a], { lrScale: new Map([[b, 0.5]]) }), /Adam: lrScale: expected only the optimizer's parameters, got a tensor of shape \[2\]/);
  assert.throws(() => new Adam([a], { lrScale: new Map([[a, 0]]) }), /Adam: expected 0 < lrScale <= Infinity, got 0/);
});
