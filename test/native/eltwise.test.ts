// Native activations against the reference backend, forward from x and backward from y, on
// lengths that are not multiples of the vector width. Tolerance: 2e-6 |reference| + 1e-7 for
// exp-based functions (relu is exact).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Activation } from '../../src/backend/kernel_names.js';
import { nativeBackend as N } from '../../src/backend/native_backend.js';
import { referenceBackend as R } from '../../src/backend/reference_backend.js';
import { assertClose, randoms } from './native_check.js';

const rnd = randoms(505);
const CASES: [Activation, number][] = [['relu', 0], ['elu', 1], ['elu', 0.5], ['sigmoid', 0], ['tanh', 0]];

test('activation forward and backward match the reference (relu, elu, sigmoid, tanh)', () => {
  for (const [kind, alpha] of CASES) {
    for (const n of [1, 17, 100_003]) {
      const x = rnd.normal(n, 3);
      const yN = new Float32Array(n);
      const yR = new Float32Array(n);
      N.activationForward(kind, x, yN, alpha);
      R.activationForward(kind, x, yR, alpha);
      const what = `${kind}(alpha ${alpha}) n=${n}`;
      if (kind === 'relu') assert.deepEqual(yN, yR, what);
      else assertClose(yN, yR, `forward ${what}`, { rel: 2e-6, absPerTerm: 1e-7 });

      const dy = rnd.normal(n);
      const dxN = new Float32Array(n);
      const dxR = new Float32Array(n);
      // both from the same y, so that only the backward formula is compared
      N.activationBackward(kind, yR, dy, dxN, alpha);
      R.activationBackward(kind, yR, dy, dxR, alpha);
      if (kind === 'relu') assert.deepEqual(dxN, dxR, what);
      else assertClose(dxN, dxR, `backward ${what}`, { rel: 2e-6, absPerTerm: 1e-7 });
    }
  }
});

test('activations work in place (y = x, dx = dy)', () => {
  const x = rnd.normal(1000);
  const expected = new Float32Array(1000);
  R.activationForward('elu', x, expected, 1);
  const inPlace = x.slice();
  N.activationForward('elu', inPlace, inPlace, 1);
  assertClose(inPlace, expected, 'elu in place', { rel: 2e-6, absPerTerm: 1e-7 });
  const dy = rnd.normal(1000);
  const dxR = new Float32Array(1000);
  R.activationBackward('elu', expected, dy, dxR, 1);
  N.activationBackward('elu', expected, dy, dy, 1);
  assertClose(dy, dxR, 'elu backward in place', { rel: 2e-6, absPerTerm: 1e-7 });
});

test('empty activations are no-ops', () => {
  N.activationForward('sigmoid', new Float32Array(0), new Float32Array(0), 0);
  N.activationBackward('relu', new Float32Array(0), new Float32Array(0), new Float32Array(0), 0);
});
