// The autograd engine itself: accumulation, detach, reshape views, noGrad, graph sharing.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { activation } from '../../../src/tensor/ops/activation.js';
import { add } from '../../../src/tensor/ops/elementwise.js';
import { meanSquaredError } from '../../../src/tensor/ops/loss.js';
import { Tensor, noGrad } from '../../../src/tensor/tensor.js';
import { ShapeError } from '../../../src/tensor/errors.js';

before(() => setBackend(referenceBackend));

test('constructor checks the data length against the shape', () => {
  assert.throws(() => new Tensor(new Float32Array(5), [2, 3]), (e: unknown) => e instanceof ShapeError && /expected 6 elements for shape \[2, 3\], got 5/.test(e.message));
  assert.throws(() => Tensor.zeros([2, -1]), ShapeError);
  assert.equal(Tensor.zeros([0, 4]).size, 0);
});

test('a tensor used twice gets the sum of both gradients', () => {
  // loss = mean((x + x - t)^2) = mean((2x - t)^2); d/dx = 4 (2x - t) / n
  const x = Tensor.from([1, 2, 3], [3], true);
  const t = Tensor.from([0, 0, 0], [3]);
  meanSquaredError(add(x, x), t).backward();
  assert.deepEqual([...x.grad!], [8 / 3, 16 / 3, 8].map(Math.fround));
});

test('detach stops the gradient but shares the data', () => {
  const x = Tensor.from([1, -2], [2], true);
  const y = activation('relu', x);
  const d = y.detach();
  assert.equal(d.data, y.data);
  assert.equal(d.requiresGrad, false);
  const z = Tensor.from([3, 4], [2], true);
  meanSquaredError(add(d, z), Tensor.zeros([2])).backward();
  assert.equal(x.grad, null);
  assert.ok(z.grad !== null);
});

test('reshape is a view and passes the gradient through', () => {
  const x = Tensor.from([1, 2, 3, 4], [2, 2], true);
  const r = x.reshape([4]);
  assert.equal(r.data, x.data);
  meanSquaredError(r, Tensor.zeros([4])).backward();
  assert.deepEqual([...x.grad!], [0.5, 1, 1.5, 2]);
  assert.throws(() => x.reshape([3]), /reshape: expected a shape with 4 elements for \[2, 2\], got \[3\]/);
});

test('noGrad records no graph; backward of a non-scalar needs a seed', () => {
  const x = Tensor.from([1, 2], [2], true);
  const y = noGrad(() => activation('relu', x));
  assert.equal(y.node, null);
  assert.equal(y.requiresGrad, false);
  const z = activation('relu', x);
  assert.throws(() => z.backward(), /backward: expected a scalar or an explicit seed gradient, got shape \[2\]/);
  z.backward(Float32Array.from([1, 1]));
  assert.deepEqual([...x.grad!], [1, 1]);
});

test('intermediate gradients are released after use, leaf gradients kept', () => {
  const x = Tensor.from([1, 2], [2], true);
  const h = activation('elu', x);
  meanSquaredError(h, Tensor.zeros([2])).backward();
  assert.equal(h.grad, null);
  assert.ok(x.grad !== null);
});

test('adopt: a tensor whose elements were moved away keeps its size and takes new elements of that size only', () => {
  const w = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], true);
  const buffer = w.data.buffer as ArrayBuffer;
  structuredClone(buffer, { transfer: [buffer] });
  w.name = 'layers.0.weight';
  assert.throws(() => w.data, /GivenAwayError: Tensor 'layers.0.weight' \[2, 3\]: its elements were moved to pipeline stages and not brought back/);
  assert.throws(() => w.storage, /GivenAwayError/, 'kernels read storage: the same error');
  assert.equal(w.size, 6);
  assert.throws(() => w.adopt(new Float32Array(5)), /Tensor.adopt: expected 6 elements for an NHWC tensor \[2, 3\], got 5/);
  const fresh = Float32Array.from([6, 5, 4, 3, 2, 1]);
  w.adopt(fresh);
  assert.equal(w.data, fresh);
});
