// Rows that several samples share: gatherRows hands each sample its row of a table, and its
// backward sums the samples' gradients back onto the table's rows. AL's target path runs once per
// class present in a batch and is gathered out to the samples (src/al/label_groups.ts).
import { backend } from '../../backend/backend.js';
import { ShapeError, shapeString } from '../errors.js';
import { Tensor, fromOp, gradBuffer } from '../tensor.js';

/**
 * x [rows, cols] -> [index.length, cols], whose row i is x[index[i]].
 * Backward: dx[r] = sum of dy[i] over the i with index[i] = r (zero for rows no one took).
 */
export function gatherRows(x: Tensor, index: Int32Array): Tensor {
  if (x.shape.length !== 2) throw new ShapeError(`gatherRows: expected a table [rows, cols], got ${shapeString(x.shape)}`);
  const [rows, cols] = x.shape as [number, number];
  const b = backend();
  const y = Tensor.empty([index.length, cols]);
  b.gatherRows(x.data, index, y.data, rows, cols);
  return fromOp('gatherRows', y, [x], (dy) => {
    const dx = gradBuffer(rows * cols);
    b.scatterAddRows(dy, index, dx, rows, cols);
    return [dx];
  });
}
