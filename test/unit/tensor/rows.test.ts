// gatherRows: each output row is its index's row of the table, and the backward pass sums the
// gradients of the rows that share a source (rows no one took get zero).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { ShapeError } from '../../../src/tensor/errors.js';
import { gatherRows } from '../../../src/tensor/ops/rows.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { gradError, randomTensor } from '../../util/gradcheck.js';

before(() => setBackend(referenceBackend));

test('gatherRows gives each sample its row, repeats included', () => {
  const table = Tensor.from([1, 2, 3, 4, 5, 6], [3, 2]);
  const out = gatherRows(table, Int32Array.of(2, 0, 2, 2));
  assert.deepEqual(out.shape, [4, 2]);
  assert.deepEqual([...out.data], [5, 6, 1, 2, 5, 6, 5, 6]);
});

test('gatherRows backward sums the gradients of the rows that share a source, and is zero for a row no one took', () => {
  const table = Tensor.from([1, 2, 3, 4, 5, 6], [3, 2], true);
  const out = gatherRows(table, Int32Array.of(2, 0, 2));
  // the gradient of sum(w * out): table row 2 collects out rows 0 and 2, row 0 out row 1, row 1 nothing
  out.backward(Float32Array.of(1, 10, 100, 1000, 10000, 100000));
  assert.deepEqual([...table.grad!], [100, 1000, 0, 0, 10001, 100010]);
});

test('gatherRows: gradient against finite differences', () => {
  const rng = new Rng(5);
  const table = randomTensor([4, 3], rng);
  const err = gradError(([x]) => gatherRows(x!, Int32Array.of(3, 1, 3, 0, 3)), [table]);
  assert.ok(err < 1e-3, `gradient error ${err}`);
});

test('gatherRows refuses a table that is not [rows, cols] and an index outside the table', () => {
  assert.throws(() => gatherRows(Tensor.zeros([2, 2, 2]), Int32Array.of(0)), (e: unknown) => e instanceof ShapeError && /expected a table \[rows, cols\], got \[2, 2, 2\]/.test(e.message));
  assert.throws(() => gatherRows(Tensor.zeros([2, 3]), Int32Array.of(0, 2)), /gatherRows: index\[1\] = 2 is not a row of 2/);
  assert.throws(() => gatherRows(Tensor.zeros([2, 3]), Int32Array.of(-1)), /gatherRows: index\[0\] = -1 is not a row of 2/);
});
