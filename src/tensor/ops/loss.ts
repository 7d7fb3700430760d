// Scalar losses. Each kernel returns the mean loss and writes d(loss)/d(input) in the same pass.
import { backend } from '../../backend/backend.js';
import { ShapeError, shapeString } from '../errors.js';
import { Tensor, fromOp, gradBuffer } from '../tensor.js';

function scaled(dy: Float32Array, grad: Float32Array): Float32Array {
  const s = dy[0]!;
  if (s !== 1) backend().axpby(0, grad, s, grad);
  return grad;
}

/** mean over the batch of -log softmax(logits)[label]; logits [batch, classes], labels [batch]. */
export function softmaxCrossEntropy(logits: Tensor, labels: Int32Array): Tensor {
  const [rows, cols] = logits.shape;
  if (logits.shape.length !== 2 || labels.length !== rows) {
    throw new ShapeError(`softmaxCrossEntropy: expected logits [${labels.length}, classes] for ${labels.length} labels, got ${shapeString(logits.shape)}`);
  }
  const grad = logits.requiresGrad ? gradBuffer(logits.size) : null;
  const loss = backend().softmaxCrossEntropy(logits.data, labels, grad, rows!, cols!);
  return fromOp('softmaxCrossEntropy', Tensor.from([loss], [1]), [logits], (dy) => [scaled(dy, grad!)]);
}

/** mean over all elements of (pred - target)^2; the target gets no gradient. */
export function meanSquaredError(pred: Tensor, target: Tensor): Tensor {
  if (pred.size !== target.size) {
    throw new ShapeError(`meanSquaredError: expected equal sizes, got ${shapeString(pred.shape)} and ${shapeString(target.shape)}`);
  }
  const grad = pred.requiresGrad ? gradBuffer(pred.size) : null;
  const loss = backend().meanSquaredError(pred.data, target.data, grad);
  return fromOp('meanSquaredError', Tensor.from([loss], [1]), [pred], (dy) => [scaled(dy, grad!)]);
}
