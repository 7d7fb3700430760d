// The authors' cuts of each backbone, other cuts with --al-layers, and bad configurations.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALConfigError } from '../../../src/al/associated_net.js';
import { buildAssociatedNet, defaultALLayers, maxALLayers } from '../../../src/al/decompositions.js';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { Conv2d } from '../../../src/nn/conv.js';
import type { Layer } from '../../../src/nn/layer.js';
import { BasicBlock } from '../../../src/nn/residual.js';
import { Rng } from '../../../src/tensor/rng.js';

before(() => setBackend(referenceBackend));

function count(layer: Layer, type: abstract new (...a: never[]) => Layer): number {
  return (layer instanceof type ? 1 : 0) + layer.children().reduce((n, [, c]) => n + count(c, type), 0);
}

const spec = { inputShape: [28, 28, 1] as const, classes: 10, lr: 1e-3 };

test("default cuts: mlp 2, cnn 4 x 2 convs, vgg 4, resnet 4 (stem | stages)", () => {
  assert.deepEqual(['mlp', 'cnn', 'vgg', 'resnet20', 'resnet32'].map((m) => defaultALLayers(m as never)), [2, 4, 4, 4, 4]);
  const cnn = buildAssociatedNet({ ...spec, model: 'cnn', rng: new Rng(1) });
  assert.deepEqual(cnn.layers.map((l) => count(l.parts.f, Conv2d)), [2, 2, 2, 2]);
  const resnet = buildAssociatedNet({ ...spec, model: 'resnet20', inputShape: [32, 32, 3], rng: new Rng(1) });
  assert.deepEqual(resnet.layers.map((l) => count(l.parts.f, BasicBlock)), [0, 3, 3, 3]);
});

test('mlp: f widths = t width; the bridge is 5n then n; h_1 maps back to the classes', () => {
  const net = buildAssociatedNet({ ...spec, model: 'mlp', rng: new Rng(1), tWidth: 64, layers: 3 });
  const shapes = net.layers.map((l) => l.namedParameters().filter(([n]) => n.endsWith('weight')).map(([n, t]) => `${n}:${t.shape.join('x')}`));
  assert.deepEqual(shapes[0], ['f.1.weight', 'b.0.weight', 'b.2.weight', 'g.0.weight', 'h.0.weight'].map((n, i) => `${n}:${['64x784', '320x64', '64x320', '64x10', '10x64'][i]}`));
  assert.deepEqual(shapes[2]!.slice(3), ['g.0.weight:64x64', 'h.0.weight:64x64']);
});

test('other cuts split the units as evenly as possible', () => {
  const cnn = buildAssociatedNet({ ...spec, model: 'cnn', rng: new Rng(1), layers: 3, tWidth: 8 });
  assert.deepEqual(cnn.layers.map((l) => count(l.parts.f, Conv2d)), [2, 3, 3]);
});

test('bad --al-layers and t width name the flag and the range', () => {
  assert.equal(maxALLayers('cnn'), 8);
  assert.throws(() => buildAssociatedNet({ ...spec, model: 'cnn', rng: new Rng(1), layers: 9 }), (e: unknown) => e instanceof ALConfigError && /--al-layers: expected 1 to 8 for cnn, got 9/.test(e.message));
  assert.throws(() => buildAssociatedNet({ ...spec, model: 'mlp', rng: new Rng(1), tWidth: 0 }), /--t-width: expected an integer >= 1, got 0/);
});
