// Model builders: output shapes for both input sizes and parameter counts computed here from the
// architecture definitions in docs/reproduction.md.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { ModelError, buildModel, buildResnet } from '../../../src/models/index.js';
import { Conv2d } from '../../../src/nn/conv.js';
import { countParameters, type Layer } from '../../../src/nn/layer.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor, noGrad } from '../../../src/tensor/tensor.js';

before(() => setBackend(referenceBackend));

const dense = (i: number, o: number): number => i * o + o;
const conv = (i: number, o: number, k = 3, bias = true): number => i * o * k * k + (bias ? o : 0);
const bn = (c: number): number => 2 * c;

function countLayers(layer: Layer, type: abstract new (...a: never[]) => Layer): number {
  return (layer instanceof type ? 1 : 0) + layer.children().reduce((n, [, c]) => n + countLayers(c, type), 0);
}

test('mlp: 784-1024-1024-5120-1024-1024-10 on MNIST', () => {
  const model = buildModel('mlp', { inputShape: [28, 28, 1], classes: 10, rng: new Rng(1) });
  const expected = dense(784, 1024) + dense(1024, 1024) + dense(1024, 5120) + dense(5120, 1024) + dense(1024, 1024) + dense(1024, 10);
  assert.equal(countParameters(model), expected);
  const y = noGrad(() => model.forward(Tensor.zeros([2, 28, 28, 1])));
  assert.deepEqual(y.shape, [2, 10]);
});

test('mlp with other hidden widths: 784-300-100-10, and the authors\' variant keeps them', () => {
  for (const variant of [undefined, 'authors'] as const) {
    const model = buildModel('mlp', { inputShape: [28, 28, 1], classes: 10, rng: new Rng(1), hidden: [300, 100], ...(variant ? { variant } : {}) });
    assert.equal(countParameters(model), dense(784, 300) + dense(300, 100) + dense(100, 10));
    assert.deepEqual(noGrad(() => model.forward(Tensor.zeros([2, 28, 28, 1]))).shape, [2, 10]);
  }
});

test('vanilla cnn: 8 convolutions, flatten 7x7x64 (28x28) or 8x8x64 (32x32), dense 1280-256x4', () => {
  for (const [side, channels, flat] of [[28, 1, 7 * 7 * 64], [32, 3, 8 * 8 * 64]] as const) {
    const model = buildModel('cnn', { inputShape: [side, side, channels], classes: 10, rng: new Rng(1) });
    const convs = conv(channels, 32) + 3 * conv(32, 32) + conv(32, 64) + 3 * conv(64, 64);
    const fcs = dense(flat, 1280) + dense(1280, 256) + 3 * dense(256, 256) + dense(256, 10);
    assert.equal(countParameters(model), convs + fcs, `${side}x${side}x${channels}`);
    assert.equal(countLayers(model, Conv2d), 8);
  }
  const small = buildModel('cnn', { inputShape: [28, 28, 1], classes: 10, rng: new Rng(1) });
  assert.deepEqual(noGrad(() => small.forward(Tensor.zeros([1, 28, 28, 1]))).shape, [1, 10]);
});

test('vgg: the AL paper conv stack and dense head, 100 classes', () => {
  const model = buildModel('vgg', { inputShape: [32, 32, 3], classes: 100, rng: new Rng(1) });
  const convs = conv(3, 128, 3, false) + conv(128, 256, 3, false) + conv(256, 256, 3, false) + conv(256, 512, 3, false) + 2 * conv(512, 512, 3, false)
    + bn(128) + 2 * bn(256) + 3 * bn(512);
  const fcs = 1500 * 2048 + bn(1500) + 300 * 1500 + bn(300) + 3 * (300 * 300 + bn(300)) + dense(300, 100);
  assert.equal(countParameters(model), convs + fcs);
});

test('resnet20 / resnet32: 6n+2 layers, projection shortcuts entering stages 2 and 3', () => {
  for (const [depth, n] of [[20, 3], [32, 5]] as const) {
    const model = buildModel(depth === 20 ? 'resnet20' : 'resnet32', { inputShape: [32, 32, 3], classes: 10, rng: new Rng(1) });
    assert.equal(countLayers(model, Conv2d), 1 + 6 * n + 2);
    const stem = conv(3, 16, 3, false) + bn(16);
    const block = (i: number, o: number): number => conv(i, o, 3, false) + bn(o) + conv(o, o, 3, false) + bn(o) + (i !== o ? conv(i, o, 1, false) + bn(o) : 0);
    const stages = n * block(16, 16) + block(16, 32) + (n - 1) * block(32, 32) + block(32, 64) + (n - 1) * block(64, 64);
    assert.equal(countParameters(model), stem + stages + dense(64, 10));
  }
  assert.throws(() => buildResnet({ inputShape: [32, 32, 3], classes: 10, rng: new Rng(1) }, 21), (e: unknown) => e instanceof ModelError && /expected depth 6n \+ 2/.test(e.message));
});

test('same seed, same weights; another seed, other weights', () => {
  const a = buildModel('cnn', { inputShape: [28, 28, 1], classes: 10, rng: new Rng(5) }).parameters();
  const b = buildModel('cnn', { inputShape: [28, 28, 1], classes: 10, rng: new Rng(5) }).parameters();
  const c = buildModel('cnn', { inputShape: [28, 28, 1], classes: 10, rng: new Rng(6) }).parameters();
  assert.deepEqual(a.map((t) => t.data), b.map((t) => t.data));
  assert.notDeepEqual(a[0]!.data, c[0]!.data);
});
