// The authors' cuts of each backbone, other cuts with --al-layers, and bad configurations.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALConfigError } from '../../../src/al/associated_net.js';
import { AL_DEFAULT_LR, buildALLayers, buildAssociatedNet, defaultALLayers, defaultTWidth, maxALLayers } from '../../../src/al/decompositions.js';
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

test('the MLP\'s default t width: 1024 for grey images and tabular samples ([1, 1, features]), 3000 for colour images', () => {
  assert.equal(defaultTWidth('mlp', [28, 28, 1], 10), 1024);
  assert.equal(defaultTWidth('mlp', [1, 1, 20], 3), 1024);
  assert.equal(defaultTWidth('mlp', [32, 32, 3], 10), 3000);
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

test('without lr, every f and b trains at AL_DEFAULT_LR and g, h at their default multiple of it; a bad lr names the flag', () => {
  const { lr: _, ...withoutLr } = spec;
  const net = buildAssociatedNet({ ...withoutLr, model: 'mlp', rng: new Rng(1), tWidth: 16, layers: 2 });
  const given = buildAssociatedNet({ ...spec, lr: AL_DEFAULT_LR, model: 'mlp', rng: new Rng(1), tWidth: 16, layers: 2 });
  assert.deepEqual(net.layers.map((l) => [l.forwardOptimizer.lr, l.targetOptimizer.lr]), given.layers.map((l) => [l.forwardOptimizer.lr, l.targetOptimizer.lr]));
  assert.equal(net.layers[0]!.forwardOptimizer.lr, AL_DEFAULT_LR);
  for (const bad of [0, -1e-3, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => buildAssociatedNet({ ...spec, lr: bad, model: 'mlp', rng: new Rng(1), tWidth: 16 }), (e: unknown) => e instanceof ALConfigError && e.message === `--lr: expected a finite number > 0, got ${bad}`);
  }
});

test('--al-cut: each layer holds the units asked for, and its bridge reads that layer\'s s (the size the cut sets)', () => {
  const cnn = buildAssociatedNet({ ...spec, model: 'cnn', rng: new Rng(1), cut: [3, 1, 2, 2], tWidth: 8 });
  assert.deepEqual(cnn.layers.map((l) => count(l.parts.f, Conv2d)), [3, 1, 2, 2]);
  const bridgeInputs = cnn.layers.map((l) => l.namedParameters().find(([n]) => n === 'b.1.weight')![1].shape[1]);
  // 28x28x32 after three stride-1 units, 14x14x32 after the stride-2 one, 14x14x64, 7x7x64
  assert.deepEqual(bridgeInputs, [28 * 28 * 32, 14 * 14 * 32, 14 * 14 * 64, 7 * 7 * 64]);
  const same = buildAssociatedNet({ ...spec, model: 'cnn', rng: new Rng(1), cut: [2, 2, 2, 2], layers: 4, tWidth: 8 });
  const authors = buildAssociatedNet({ ...spec, model: 'cnn', rng: new Rng(1), tWidth: 8 });
  assert.deepEqual(same.namedParameters().map(([n, t]) => [n, [...t.data.slice(0, 4)]]), authors.namedParameters().map(([n, t]) => [n, [...t.data.slice(0, 4)]]), 'the authors\' cut given explicitly builds the same net');
});

test('bad --al-cut names the flag, the backbone\'s unit count and what was given', () => {
  const bad = (cut: number[], layers?: number, model: 'cnn' | 'mlp' = 'cnn'): string => {
    try {
      buildAssociatedNet({ ...spec, model, rng: new Rng(1), cut, ...(layers ? { layers } : {}) });
    } catch (e) {
      assert.ok(e instanceof ALConfigError);
      return e.message;
    }
    assert.fail(`cut ${cut.join(',')} was accepted`);
  };
  assert.match(bad([3, 1, 2]), /--al-cut: expected unit counts >= 1 that add up to cnn's 8 units, got 3,1,2/);
  assert.match(bad([4, 0, 4]), /got 4,0,4/);
  assert.match(bad([]), /add up to cnn's 8 units/);
  assert.match(bad([4, 4], 3), /--al-cut: cuts cnn into 2 AL layers, but --al-layers is 3/);
  assert.match(bad([1, 1], undefined, 'mlp'), /--al-cut: the MLP's AL layers are one dense unit each/);
});

test('a t width whose net cannot be allocated is refused before anything is, naming the flag and the size', () => {
  // 60000: 5n x n bridges of 1.8e10 floats, far more memory than any test machine has
  assert.throws(() => buildAssociatedNet({ ...spec, model: 'mlp', rng: new Rng(1), tWidth: 60000 }),
    (e: unknown) => e instanceof ALConfigError && /^--t-width: 60000 gives mlp at least [\d.]+e\+\d+ parameters, [\d,.]+ GB .*more than this machine's/.test(e.message));
  assert.throws(() => buildAssociatedNet({ ...spec, model: 'cnn', rng: new Rng(1), tWidth: 1e9 }), /^ALConfigError: --t-width: 1000000000 gives cnn/);
});

test('a stage builds only its layers, with the shapes of the whole net; a missing layer is simply absent', () => {
  const shapes = (layers: { parts: Record<'f' | 'b' | 'g' | 'h', Layer> }[]): number[][][] =>
    layers.map((l) => (['f', 'b', 'g', 'h'] as const).flatMap((p) => l.parts[p].parameters().map((t) => [...t.shape])));
  for (const model of ['mlp', 'cnn'] as const) {
    const whole = buildAssociatedNet({ ...spec, model, rng: new Rng(1), tWidth: 32, layers: model === 'mlp' ? 3 : 4 });
    const some = buildALLayers({ ...spec, model, rng: new Rng(1), tWidth: 32, layers: model === 'mlp' ? 3 : 4 }, [1, 2]);
    assert.deepEqual(some.map((l) => l.index), [2, 3]);
    assert.deepEqual(shapes(some), shapes(whole.layers.slice(1, 3)), model);
    assert.deepEqual(buildALLayers({ ...spec, model, rng: new Rng(1), tWidth: 32, layers: 3 }, [5]), []);
  }
  // building every layer draws exactly what the whole net draws
  const all = buildALLayers({ ...spec, model: 'mlp', rng: new Rng(3), tWidth: 16, layers: 2 });
  const net = buildAssociatedNet({ ...spec, model: 'mlp', rng: new Rng(3), tWidth: 16, layers: 2 });
  assert.deepEqual(all.flatMap((l) => l.parts.b.parameters().map((t) => [...t.data])), net.layers.flatMap((l) => l.parts.b.parameters().map((t) => [...t.data])));
});
