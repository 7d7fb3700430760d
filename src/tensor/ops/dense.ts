// Fully connected maths: y = x W^T + b, with W stored [out, in] as in PyTorch.
import { backend } from '../../backend/backend.js';
import { ShapeError, shapeString } from '../errors.js';
import { Tensor, fromOp, gradBuffer } from '../tensor.js';
import { addInto } from './grad_util.js';

/**
 * x: [batch, in], weight: [out, in], bias: [out] or null -> [batch, out].
 * Backward: dx = dy W; dW += dy^T x; db += sum over the batch of dy.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [batch, inFeatures] = x.shape;
  const [outFeatures, weightIn] = weight.shape;
  if (x.shape.length !== 2 || weight.shape.length !== 2 || inFeatures !== weightIn) {
    throw new ShapeError(`linear: expected x [batch, ${weightIn}] for weight ${shapeString(weight.shape)}, got x ${shapeString(x.shape)}`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outFeatures)) {
    throw new ShapeError(`linear: expected bias [${outFeatures}], got ${shapeString(bias.shape)}`);
  }
  const m = batch!, k = inFeatures!, n = outFeatures!;
  const b = backend();
  const y = Tensor.empty([m, n]);
  b.matmul(x.data, weight.data, bias?.data ?? null, y.data, { m, k, n, transA: false, transB: true, accumulate: false });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return fromOp('linear', y, inputs, (dy) => {
    let dx: Float32Array | null = null;
    if (x.requiresGrad) {
      dx = gradBuffer(m * k);
      b.matmul(dy, weight.data, null, dx, { m, k: n, n: k, transA: false, transB: false, accumulate: false });
    }
    // Parameter gradients are written straight into .grad (accumulate = true when one exists),
    // which saves a temporary and an add per step.
    if (weight.requiresGrad) {
      const exists = weight.grad !== null;
      const dw = weight.grad ?? gradBuffer(n * k);
      b.matmul(dy, x.data, null, dw, { m: n, k: m, n: k, transA: true, transB: false, accumulate: exists });
      weight.grad = dw;
    }
    if (bias?.requiresGrad) {
      const db = gradBuffer(n);
      b.sumRows(dy, db, m, n);
      addInto(bias, db);
    }
    return [dx, null, null];
  });
}
