// Image transforms on raw NHWC batches, before they become tensors: inputs, so no gradients.
import { backend } from '../../backend/backend.js';
import { ShapeError, shapeString } from '../errors.js';

/**
 * The CIFAR training augmentation of a batch x [n, h, w, c] (Backend.augmentImages has the
 * steps): per image, crop [3] = (top, left, flip) with offsets in 0..2 pad, adjust [2] =
 * (brightness delta, contrast factor). Returns a new [n, h, w, c] buffer.
 */
export function augmentImages(
  x: Float32Array, shape: readonly number[], crop: Int32Array, adjust: Float32Array, pad: number,
): Float32Array {
  const op = 'augmentImages';
  if (shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`${op}: expected shape [n, h, w, c] (NHWC), got ${shapeString(shape)}`);
  }
  const [n, h, w, c] = shape as [number, number, number, number];
  if (x.length !== n * h * w * c) throw new ShapeError(`${op}: expected ${n * h * w * c} values for x ${shapeString(shape)}, got ${x.length}`);
  if (crop.length !== 3 * n) throw new ShapeError(`${op}: expected crop [${n}, 3], got ${crop.length} values`);
  if (adjust.length !== 2 * n) throw new ShapeError(`${op}: expected adjust [${n}, 2], got ${adjust.length} values`);
  const y = new Float32Array(x.length);
  backend().augmentImages(x, crop, adjust, y, { n, h, w, c, pad });
  return y;
}
