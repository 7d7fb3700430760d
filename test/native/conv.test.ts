// Native convolutions against the reference backend: 3x3 and 1x1 kernels, stride 1 and 2,
// padding 0 and 1, non-square images, 1 and 3 input channels, channel counts that are not
// multiples of the vector width; forward (with and without bias), backward data, backward
// weights (with and without bias gradient); on each activation layout the binding can use.
// Tolerance: |native - reference| <= 1e-5 |reference| + 2e-6 K, inputs ~N(0, 1), K the length of
// the sum behind one output: c*kh*kw (forward), o*kh*kw (backward data), n*outH*outW (weights).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Conv2dAttrs } from '../../src/backend/kernel_names.js';
import { nativeBackend as N, setConvLayout } from '../../src/backend/native_backend.js';
import { referenceBackend as R } from '../../src/backend/reference_backend.js';
import { assertClose, randoms } from './native_check.js';

const rnd = randoms(202);

function conv(n: number, h: number, w: number, c: number, o: number, k: number, stride: number, pad: number, kw = k): Conv2dAttrs {
  const outH = Math.floor((h + 2 * pad - k) / stride) + 1;
  const outW = Math.floor((w + 2 * pad - kw) / stride) + 1;
  return { n, h, w, c, o, kh: k, kw, strideH: stride, strideW: stride, padH: pad, padW: pad, outH, outW };
}

const SHAPES: Conv2dAttrs[] = [
  conv(2, 7, 9, 3, 5, 3, 1, 1), // first layer: c = 3, odd non-square image
  conv(2, 8, 6, 1, 4, 3, 2, 1), // c = 1, stride 2
  conv(3, 5, 4, 8, 16, 1, 1, 0), // 1x1
  conv(2, 7, 6, 16, 8, 1, 2, 0), // 1x1 stride 2 with a dropped last column/row
  conv(2, 9, 11, 3, 8, 3, 2, 0), // stride 2, no padding
  conv(2, 6, 5, 16, 16, 3, 1, 0), // valid convolution
  conv(2, 10, 12, 32, 24, 3, 1, 1), // blocked-friendly channels
  conv(1, 6, 7, 4, 6, 3, 1, 1, 1), // 3x1 kernel
];

for (const layout of ['nhwc', 'blocked', 'auto'] as const) {
  test(`conv2d forward / backward data / backward weights match the reference (layout ${layout})`, () => {
    setConvLayout(layout);
    try {
      for (const a of SHAPES) {
        const { n, h, w, c, o, kh, kw, outH, outW } = a;
        const x = rnd.normal(n * h * w * c);
        const weight = rnd.normal(o * c * kh * kw);
        const bias = rnd.normal(o);
        const dy = rnd.normal(n * outH * outW * o);
        const what = `${layout} ${JSON.stringify(a)}`;

        for (const b of [null, bias]) {
          const yN = new Float32Array(n * outH * outW * o);
          const yR = new Float32Array(n * outH * outW * o);
          N.conv2dForward(x, weight, b, yN, a);
          R.conv2dForward(x, weight, b, yR, a);
          assertClose(yN, yR, `forward bias=${b !== null} ${what}`, { terms: c * kh * kw });
        }

        const dxN = new Float32Array(x.length).fill(Number.NaN);
        const dxR = new Float32Array(x.length);
        N.conv2dBackwardData(dy, weight, dxN, a);
        R.conv2dBackwardData(dy, weight, dxR, a);
        assertClose(dxN, dxR, `backward data ${what}`, { terms: o * kh * kw });

        for (const withBias of [false, true]) {
          const dwN = new Float32Array(weight.length).fill(Number.NaN);
          const dwR = new Float32Array(weight.length);
          const dbN = withBias ? new Float32Array(o).fill(Number.NaN) : null;
          const dbR = withBias ? new Float32Array(o) : null;
          N.conv2dBackwardWeights(x, dy, dwN, dbN, a);
          R.conv2dBackwardWeights(x, dy, dwR, dbR, a);
          assertClose(dwN, dwR, `backward weights bias=${withBias} ${what}`, { terms: n * outH * outW });
          if (dbN !== null && dbR !== null) assertClose(dbN, dbR, `bias gradient ${what}`, { terms: n * outH * outW });
        }
      }
    } finally {
      setConvLayout('auto');
    }
  });
}

test('conv2d results stay right when the same shape is called again with new buffers (cached primitive)', () => {
  const a = conv(2, 8, 8, 8, 8, 3, 1, 1);
  for (let round = 0; round < 3; round++) {
    const x = rnd.normal(2 * 8 * 8 * 8);
    const weight = rnd.normal(8 * 8 * 9);
    const yN = new Float32Array(2 * 8 * 8 * 8);
    const yR = new Float32Array(yN.length);
    N.conv2dForward(x, weight, null, yN, a);
    R.conv2dForward(x, weight, null, yR, a);
    assertClose(yN, yR, `round ${round}`, { terms: 72 });
  }
});

test('conv2dForward with a fused activation matches the reference convolution followed by it, on each layout', () => {
  const a = conv(2, 10, 12, 32, 24, 3, 1, 1);
  const x = rnd.normal(a.n * a.h * a.w * a.c);
  const weight = rnd.normal(a.o * a.c * 9);
  const bias = rnd.normal(a.o);
  for (const layout of ['nhwc', 'blocked', 'auto'] as const) {
    setConvLayout(layout);
    try {
      for (const [activation, alpha] of [['relu', 0], ['elu', 1], ['elu', 0.5], ['sigmoid', 0], ['tanh', 0]] as const) {
        const fused: Conv2dAttrs = { ...a, activation, alpha };
        const yN = new Float32Array(a.n * a.outH * a.outW * a.o);
        const yR = new Float32Array(yN.length);
        N.conv2dForward(x, weight, bias, yN, fused);
        R.conv2dForward(x, weight, bias, yR, fused);
        assertClose(yN, yR, `${layout} ${activation} alpha ${alpha}`, { terms: a.c * 9 });
      }
    } finally {
      setConvLayout('auto');
    }
  }
});

test('conv2dForward refuses an unknown fused activation and a negative ELU alpha, naming the attribute', () => {
  const a = conv(1, 4, 4, 2, 2, 3, 1, 1);
  const x = new Float32Array(32), weight = new Float32Array(36), y = new Float32Array(32);
  for (const backend of [N, R]) {
    assert.throws(() => backend.conv2dForward(x, weight, null, y, { ...a, activation: 'elu', alpha: -1 }), /alpha >= 0/);
  }
  assert.throws(() => N.conv2dForward(x, weight, null, y, { ...a, activation: 'gelu' as never }), /attrs\.activation, got 'gelu'/);
});
