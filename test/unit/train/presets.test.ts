// --preset authors: every resolved setting against the value in the authors' code (GitHub
// SamYWK/Associated_Learning, commit 5069adc; file and line in each comment), flags beside the
// preset overriding it, and the networks their code builds.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildAssociatedNet } from '../../../src/al/decompositions.js';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { parseTrainConfig } from '../../../src/cli/commands/train.js';
import { buildTrainable } from '../../../src/run/trainable.js';
import { buildModel } from '../../../src/models/index.js';
import { BasicBlock, BatchNorm, Conv2d, Linear, type Layer } from '../../../src/nn/index.js';
import type { Adam } from '../../../src/optim/adam.js';
import { authorsSettings } from '../../../src/train/presets.js';
import { Rng } from '../../../src/tensor/rng.js';

before(() => setBackend(referenceBackend));

function all(layer: Layer, type: abstract new (...a: never[]) => Layer): Layer[] {
  return [...(layer instanceof type ? [layer] : []), ...layer.children().flatMap(([, c]) => all(c, type))];
}

test('the settings every model and dataset shares, as main.py has them', () => {
  for (const dataset of ['mnist', 'fashion-mnist', 'cifar10', 'cifar100'] as const) {
    for (const model of ['mlp', 'cnn', 'vgg', 'resnet20', 'resnet32'] as const) {
      for (const method of ['bp', 'al'] as const) {
        const s = authorsSettings(model, dataset, method);
        const where = `${model} ${dataset} ${method}`;
        // MNIST/main.py:20, CIFAR10/main.py:23, CIFAR100/main.py:23: train_batch_size = 32
        assert.equal(s.batch, 32, where);
        // MNIST/main.py:22, CIFAR10/main.py:25: epochs = 200
        assert.equal(s.epochs, 200, where);
        // MNIST/main.py:84-93, CIFAR10/main.py:103-112: x0.1 at 40, 60, 80 % of the steps, x0.5 at 90 %
        assert.equal(s.schedule, 'paper', where);
        // models.py: tf.train.AdamOptimizer throughout (e.g. CIFAR10/models.py:68, 158)
        assert.equal(s.optimizer, 'adam', where);
        // MNIST/main.py:42-49, CIFAR10/main.py:57-64: dataset.repeat(epochs).batch(32), no shuffle
        assert.equal(s.shuffle, false, where);
        assert.equal(s.variant, 'authors', where);
        const cifar = dataset.startsWith('cifar');
        // MNIST/main.py:31-35: x / 255, minus the mean training image; CIFAR10/main.py:32-36 the same, then
        // per_image_standardization after the augmentation (43-55), which our CIFAR loader does by default
        assert.equal(s.normalize, cifar ? undefined : 'mean-image', where);
        // CIFAR10/main.py:43-50, 70: the training images are augmented
        assert.equal(s.augment, cifar ? true : undefined, where);
        // MNIST/main.py:139: lr = 1e-4; CIFAR10/main.py:161-165: 1e-3 for the BP ResNets, else 1e-4
        assert.equal(s.lr, model.startsWith('resnet') && method === 'bp' ? 1e-3 : 1e-4, where);
      }
    }
  }
});

test('L2 per model, as models.py has it, and what it reaches', () => {
  const l2 = (model: Parameters<typeof authorsSettings>[0], dataset: Parameters<typeof authorsSettings>[1], method: 'bp' | 'al'): [number, string] => {
    const s = authorsSettings(model, dataset, method);
    return [s.weightDecay, s.decayOn];
  };
  // MNIST/models.py:72-130 (MLP, MLP_AL): no regulariser; CIFAR10/models.py:219-277 likewise
  assert.deepEqual(l2('mlp', 'mnist', 'bp'), [0, 'kernels']);
  assert.deepEqual(l2('mlp', 'cifar10', 'al'), [0, 'kernels']);
  // MNIST/models.py:136, 209 and CIFAR10/models.py:283, 356: CNN regulariztion_scale = 0.0
  assert.deepEqual(l2('cnn', 'mnist', 'bp'), [0, 'kernels']);
  assert.deepEqual(l2('cnn', 'cifar100', 'al'), [0, 'kernels']);
  // CIFAR10/models.py:446, 467: ResNet_20/32 regulariztion_scale = 1e-4, on every kernel (154: get_regularization_loss())
  assert.deepEqual(l2('resnet20', 'cifar10', 'bp'), [1e-4, 'kernels']);
  assert.deepEqual(l2('resnet32', 'cifar10', 'bp'), [1e-4, 'kernels']);
  // CIFAR100/models.py:446, 467: 5e-4
  assert.deepEqual(l2('resnet20', 'cifar100', 'bp'), [5e-4, 'kernels']);
  assert.deepEqual(l2('resnet32', 'cifar100', 'bp'), [5e-4, 'kernels']);
  // CIFAR10/models.py:455, 476 and CIFAR100/models.py:455, 476: ResNet_AL 1e-4, the loss of layer k takes
  // get_regularization_loss('Layer_k') only (62), so the bridges (scope 'X_Losses_k', 190, 206) get none
  assert.deepEqual(l2('resnet20', 'cifar10', 'al'), [1e-4, 'kernels']);
  assert.deepEqual(l2('resnet32', 'cifar100', 'al'), [1e-4, 'kernels']);
  // CIFAR10/models.py:489: VGG l2_regularizer(5e-4) on the convolutions; 509-518 pass it as dense's use_bias
  assert.deepEqual(l2('vgg', 'cifar10', 'bp'), [5e-4, 'conv-kernels']);
  assert.deepEqual(l2('vgg', 'cifar100', 'bp'), [5e-4, 'conv-kernels']);
  // CIFAR10/models.py:534: VGG_AL l2_regularizer(1e-5); 574, 578 pass it as use_bias of the dense f
  assert.deepEqual(l2('vgg', 'cifar10', 'al'), [1e-5, 'conv-kernels']);
});

test('al train --preset authors resolves every setting; flags beside it override it', () => {
  const c = parseTrainConfig(['--preset', 'authors', '--model', 'resnet20', '--dataset', 'cifar100', '--data-dir', '/nowhere', '--method', 'bp']);
  assert.ok(c !== 'help');
  assert.deepEqual([c.preset, c.lr, c.batch, c.epochs, c.schedule, c.optimizer, c.weightDecay, c.decayOn, c.shuffle, c.variant, c.normalize, c.augment],
    ['authors', 1e-3, 32, 200, 'paper', 'adam', 5e-4, 'kernels', false, 'authors', undefined, true]);
  const al = parseTrainConfig(['--preset', 'authors', '--method', 'al', '--lr', '3e-4', '--epochs', '2', '--batch', '16', '--weight-decay', '1e-3', '--schedule', 'constant']);
  assert.ok(al !== 'help');
  // MNIST/main.py:145: inv_learning_rate = lr * 2, whatever lr is
  assert.deepEqual([al.lr, al.targetLr, al.epochs, al.batch, al.weightDecay, al.schedule, al.decayOn, al.shuffle, al.normalize, al.alLayers],
    [3e-4, 6e-4, 2, 16, 1e-3, 'constant', 'kernels', false, 'mean-image', 2]);
  const plain = parseTrainConfig(['--method', 'al']);
  assert.ok(plain !== 'help');
  assert.deepEqual([plain.preset, plain.shuffle, plain.variant, plain.decayOn, plain.normalize, plain.lr, plain.batch], [undefined, undefined, undefined, undefined, undefined, 1e-3, 128], 'no preset: our defaults');
  assert.throws(() => parseTrainConfig(['--preset', 'authors', '--method', 'gpipe']), /--preset authors: for --method bp and al \(the authors' code has no pipelined BP\), not gpipe/);
  assert.throws(() => parseTrainConfig(['--preset', 'theirs']), /--preset: expected one of authors, got 'theirs'/);
});

test("VGG-AL as the authors built it: no batch norm, every conv with a bias (CIFAR10/models.py:545-567, is_batchnorm = False)", () => {
  const spec = { model: 'vgg' as const, inputShape: [32, 32, 3] as const, classes: 10, lr: 1e-4, tWidth: 4 };
  const theirs = buildAssociatedNet({ ...spec, rng: new Rng(1), variant: 'authors' });
  const ours = buildAssociatedNet({ ...spec, rng: new Rng(1) });
  assert.equal(theirs.layers.flatMap((l) => all(l.parts.f, BatchNorm)).length, 0);
  assert.equal(ours.layers.flatMap((l) => all(l.parts.f, BatchNorm)).length, 6, 'our default keeps batch norm');
  const convs = theirs.layers.flatMap((l) => all(l.parts.f, Conv2d)) as Conv2d[];
  assert.equal(convs.length, 6);
  assert.ok(convs.every((conv) => conv.bias !== null));
});

test("ResNet-AL as the authors built it: act(act(BN(conv2)) + 1x1 conv without BN) (CIFAR10/models.py:87-103)", () => {
  const net = buildAssociatedNet({ model: 'resnet20', inputShape: [32, 32, 3], classes: 10, lr: 1e-4, tWidth: 4, rng: new Rng(1), variant: 'authors' });
  const blocks = net.layers.flatMap((l) => all(l.parts.f, BasicBlock)) as BasicBlock[];
  assert.equal(blocks.length, 9);
  assert.ok(blocks.every((b) => b.form === 'authors'));
  const shortcuts = blocks.filter((b) => b.shortcut !== null);
  assert.equal(shortcuts.length, 2, 'entering stages 2 and 3');
  for (const b of shortcuts) assert.deepEqual(b.shortcut!.map((l) => l.constructor.name), ['Conv2d']);
  // TensorFlow's batch normalisation: decay 0.99, epsilon 1e-3
  const norms = net.layers.flatMap((l) => all(l.parts.f, BatchNorm)) as BatchNorm[];
  assert.ok(norms.length > 0 && norms.every((n) => n.state.momentum === 0.01 && n.state.eps === 1e-3));
});

test('the BP heads: ResNet avgpool + dense 5n, n, n, n, n with BN (CIFAR10/models.py:134-152); VGG 5n, n, n, n, n (CIFAR100/models.py:487, 509-518)', () => {
  const widths = (layer: Layer): number[] => (all(layer, Linear) as Linear[]).map((l) => l.outFeatures);
  const resnet = buildModel('resnet20', { inputShape: [32, 32, 3], classes: 10, rng: new Rng(1), variant: 'authors' });
  const head = resnet.layers[resnet.layers.length - 1]!;
  assert.deepEqual(widths(head), [1500, 300, 300, 300, 300, 10]);
  assert.equal(all(head, BatchNorm).length, 5);
  assert.deepEqual(widths(buildModel('resnet20', { inputShape: [32, 32, 3], classes: 10, rng: new Rng(1) }).layers.at(-1)!), [10], 'ours: one Linear');
  const vgg = buildModel('vgg', { inputShape: [32, 32, 3], classes: 100, rng: new Rng(1), variant: 'authors' });
  assert.deepEqual(widths(vgg), [2500, 500, 500, 500, 500, 100]);
  // VGG's dense layers take TensorFlow's default initialiser, Glorot uniform: |w| <= sqrt(6 / (fanIn + fanOut))
  const dense = all(vgg, Linear) as Linear[];
  for (const l of dense) assert.ok(l.weight.data.every((w) => Math.abs(w) <= Math.sqrt(6 / (l.inFeatures + l.outFeatures))));
  // CIFAR100/models.py:282: the CNN's n = 500
  assert.deepEqual(widths(buildModel('cnn', { inputShape: [32, 32, 3], classes: 100, rng: new Rng(1), variant: 'authors' })), [2500, 500, 500, 500, 500, 100]);
  // MNIST/models.py:74-95: n = 1024, the same as ours
  assert.deepEqual(widths(buildModel('mlp', { inputShape: [28, 28, 1], classes: 10, rng: new Rng(1), variant: 'authors' })), [1024, 1024, 5120, 1024, 1024, 10]);
});

test('weight decay reaches the kernels the preset names, and nothing else', () => {
  const config = { model: 'vgg' as const, method: 'bp' as const, optimizer: 'adam' as const, lr: 1e-4, targetLr: undefined, weightDecay: 5e-4, decayOn: 'conv-kernels' as const,
    variant: 'authors' as const, schedule: 'paper' as const, alLayers: undefined, tWidth: undefined };
  const bp = buildTrainable(config, [32, 32, 3], 10, new Rng(1));
  const adam = bp.bp!.optimizer as Adam;
  const decayed = adam.params.filter((_, i) => adam.decays[i]);
  assert.deepEqual(decayed, (all(bp.bp!.model, Conv2d) as Conv2d[]).map((c) => c.weight));
  const al = buildTrainable({ ...config, method: 'al', weightDecay: 1e-5, tWidth: 4 }, [32, 32, 3], 10, new Rng(1));
  for (const layer of al.al!.net.layers) {
    const forward = layer.forwardOptimizer as Adam, target = layer.targetOptimizer as Adam;
    assert.deepEqual(forward.params.filter((_, i) => forward.decays[i]), (all(layer.parts.f, Conv2d) as Conv2d[]).map((c) => c.weight));
    assert.ok(target.decays.every((d) => !d), 'g and h: none');
  }
  // without a scope (our default), every parameter decays
  const ours = buildTrainable({ ...config, decayOn: undefined, variant: undefined, model: 'mlp' }, [28, 28, 1], 10, new Rng(1));
  assert.ok((ours.bp!.optimizer as Adam).decays.every((d) => d));
});
