// The code maps b, g, h of both recipes and the three bridges: their activations, widths, the slim
// and lean bridges' pooling, and the near-identity start of the square maps.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildCodeMaps, type CodeMapsSpec } from '../../../src/al/codes.js';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { Activation, Linear, MaxPool2d, Sequential, type Layer } from '../../../src/nn/index.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor } from '../../../src/tensor/tensor.js';

before(() => setBackend(referenceBackend));

/** The leaf layers in order, each as a short string: Linear in x out, the activation's kind, MaxPool size. */
function leaves(layer: Layer): string[] {
  const kids = layer.children();
  if (kids.length > 0) return kids.flatMap(([, c]) => leaves(c));
  if (layer instanceof Linear) return [`linear ${layer.inFeatures}x${layer.outFeatures}`];
  if (layer instanceof Activation) return [layer.kind];
  if (layer instanceof MaxPool2d) return [`maxpool ${layer.size}`];
  return [layer.constructor.name.toLowerCase()];
}

const base: Omit<CodeMapsSpec, 'rng'> = { sShape: [64], tPrev: 10, tWidth: 32, first: true, bridge: 'wide', authors: false };

test('ours: tanh codes, a tanh-hidden wide bridge; h_1 decodes to the one-hot label through a sigmoid', () => {
  const m = buildCodeMaps({ ...base, rng: new Rng(1) });
  assert.deepEqual(leaves(m.b), ['linear 64x160', 'tanh', 'linear 160x32', 'tanh']);
  assert.deepEqual(leaves(m.g), ['linear 10x32', 'tanh']);
  assert.deepEqual(leaves(m.h), ['linear 32x10', 'sigmoid']);
  const deeper = buildCodeMaps({ ...base, tPrev: 32, first: false, rng: new Rng(1) });
  assert.deepEqual(leaves(deeper.h), ['linear 32x32', 'tanh']);
});

test("the authors': sigmoid everywhere", () => {
  const m = buildCodeMaps({ ...base, tPrev: 32, first: false, authors: true, rng: new Rng(1) });
  assert.deepEqual([...leaves(m.b), ...leaves(m.g), ...leaves(m.h)],
    ['linear 64x160', 'sigmoid', 'linear 160x32', 'sigmoid', 'linear 32x32', 'sigmoid', 'linear 32x32', 'sigmoid']);
});

test('lean: one dense map; a feature map is max-pooled to about 4x4 first, a small one is not', () => {
  assert.deepEqual(leaves(buildCodeMaps({ ...base, bridge: 'lean', rng: new Rng(1) }).b), ['linear 64x32', 'tanh']);
  assert.deepEqual(leaves(buildCodeMaps({ ...base, sShape: [28, 28, 8], bridge: 'lean', rng: new Rng(1) }).b), ['maxpool 7', 'flatten', 'linear 128x32', 'tanh']);
  assert.deepEqual(leaves(buildCodeMaps({ ...base, sShape: [14, 14, 8], bridge: 'lean', rng: new Rng(1) }).b), ['maxpool 3', 'flatten', 'linear 128x32', 'tanh']);
  assert.deepEqual(leaves(buildCodeMaps({ ...base, sShape: [7, 7, 8], bridge: 'lean', rng: new Rng(1) }).b), ['flatten', 'linear 392x32', 'tanh']);
  const b = buildCodeMaps({ ...base, sShape: [28, 28, 8], bridge: 'lean', rng: new Rng(1) }).b;
  assert.deepEqual(b.forward(Tensor.zeros([2, 28, 28, 8])).shape, [2, 32]);
});

test('slim: dense n, then n; a feature map is max-pooled to about 4x4 first, as for lean', () => {
  assert.deepEqual(leaves(buildCodeMaps({ ...base, bridge: 'slim', rng: new Rng(1) }).b), ['linear 64x32', 'tanh', 'linear 32x32', 'tanh']);
  assert.deepEqual(leaves(buildCodeMaps({ ...base, sShape: [28, 28, 8], bridge: 'slim', rng: new Rng(1) }).b), ['maxpool 7', 'flatten', 'linear 128x32', 'tanh', 'linear 32x32', 'tanh']);
  assert.deepEqual(leaves(buildCodeMaps({ ...base, bridge: 'slim', authors: true, rng: new Rng(1) }).b), ['linear 64x32', 'sigmoid', 'linear 32x32', 'sigmoid']);
  const b = buildCodeMaps({ ...base, sShape: [28, 28, 8], bridge: 'slim', rng: new Rng(1) }).b;
  assert.deepEqual(b.forward(Tensor.zeros([2, 28, 28, 8])).shape, [2, 32]);
});

test('ours: square g and h start near the identity (diagonal 1 + small noise, off-diagonal small); others and the authors\' do not', () => {
  const m = buildCodeMaps({ ...base, tPrev: 32, first: false, rng: new Rng(1) });
  for (const map of [m.g, m.h]) {
    const w = (map.children()[0]![1] as Linear).weight.data;
    for (let i = 0; i < 32; i++) {
      for (let j = 0; j < 32; j++) {
        const v = w[i * 32 + j]!;
        if (i === j) assert.ok(Math.abs(v - 1) < 0.1, `diagonal ${i}: ${v}`);
        else assert.ok(Math.abs(v) < 0.1, `(${i}, ${j}): ${v}`);
      }
    }
  }
  // mean distance of the leading diagonal from 1: He-normal weights are nowhere near it
  const fromIdentity = (l: Layer): number => {
    const linear = l.children()[0]![1] as Linear, cols = linear.inFeatures, d = Math.min(cols, linear.outFeatures);
    return Array.from({ length: d }, (_, i) => Math.abs(linear.weight.data[i * cols + i]! - 1)).reduce((a, v) => a + v, 0) / d;
  };
  assert.ok(fromIdentity(m.g) < 0.05);
  assert.ok(fromIdentity(buildCodeMaps({ ...base, tPrev: 32, first: false, authors: true, rng: new Rng(1) }).g) > 0.5);
  assert.ok(fromIdentity(buildCodeMaps({ ...base, rng: new Rng(1) }).g) > 0.5);
});

test("ours: the wide bridge's 5n -> n layer steps at lr / 5; the authors' bridge and the slim and lean ones at lr", () => {
  const m = buildCodeMaps({ ...base, rng: new Rng(1) });
  const out = (m.b as Sequential).layers[2] as Linear;
  assert.deepEqual([...m.lrScale.entries()], [[out.weight, 0.2], [out.bias, 0.2]]);
  assert.equal(buildCodeMaps({ ...base, authors: true, rng: new Rng(1) }).lrScale.size, 0);
  assert.equal(buildCodeMaps({ ...base, bridge: 'lean', rng: new Rng(1) }).lrScale.size, 0);
  assert.equal(buildCodeMaps({ ...base, bridge: 'slim', rng: new Rng(1) }).lrScale.size, 0);
});
