// Where image activations live between kernels.
//
// 'nhwc' is the layout of the whole API: row-major [n, h, w, c]. 'blocked' is oneDNN's own
// ([n, c / B, h, w, B] with B = the backend's channelBlock, nChw8c on AVX2), the layout its
// convolutions run fastest on. A convolution with a multiple of B output channels writes it, and
// batch norm, activations, adds and pooling carry it on, so a stack of them runs without the
// reorders the convolutions would otherwise make at both edges of every call. Anything else
// (flatten, dense layers, losses, a tensor leaving a pipeline stage) gets NHWC back through
// Tensor.toLayout, a differentiable reorder; reading `data` of a blocked tensor is an error, so no
// code can take blocked elements for NHWC ones by accident.
//
// Measured in BP steps (docs/benchmarks.md, "Layouts"): the convolution kernels of the Vanilla CNN
// take ~12 % less time on the blocked layout, backward-weights most.
import { backend } from '../backend/backend.js';

export type ImageLayout = 'nhwc' | 'blocked';

/** 'auto': blocked on the native backend (the reference computes it by reordering, only slower). */
export type BlockedImagesMode = 'auto' | 'on' | 'off';

let mode: BlockedImagesMode = 'auto';

/** Whether convolutions write blocked activations (per thread; for tests and benchmarks). */
export function setBlockedImages(m: BlockedImagesMode): void {
  if (m !== 'auto' && m !== 'on' && m !== 'off') throw new RangeError(`setBlockedImages: expected 'auto' | 'on' | 'off', got '${String(m)}'`);
  mode = m;
}

/** The layout a convolution writes its output of `channels` channels in. */
export function convOutputLayout(channels: number): ImageLayout {
  if (mode === 'off') return 'nhwc';
  const b = backend();
  if (mode === 'auto' && b.name !== 'native') return 'nhwc';
  return channels % b.channelBlock === 0 ? 'blocked' : 'nhwc';
}
