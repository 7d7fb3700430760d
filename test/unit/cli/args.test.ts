import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choice, int, num, parseFlags } from '../../../src/cli/args.js';
import { UsageError } from '../../../src/cli/errors.js';
import { parseTrainConfig } from '../../../src/cli/commands/train.js';

test('unknown flags and bad values name the flag', () => {
  assert.throws(() => parseFlags(['--epoch', '3'], { epochs: { type: 'string' } }), (e: unknown) => e instanceof UsageError && /'--epoch'/.test(e.message));
  const { values } = parseFlags(['--epochs', 'x', '--lr=-1', '--model', 'lenet'], { epochs: { type: 'string' }, lr: { type: 'string' }, model: { type: 'string' } });
  assert.throws(() => int(values, 'epochs', 1), /--epochs: expected an integer from 1, got 'x'/);
  assert.throws(() => num(values, 'lr', 1), /--lr: expected a number > 0, got '-1'/);
  assert.throws(() => choice(values, 'model', ['mlp', 'cnn'], 'mlp'), /--model: expected one of mlp, cnn, got 'lenet'/);
});

test('train defaults and refusals', () => {
  const config = parseTrainConfig(['--model', 'cnn', '--epochs', '2']);
  assert.ok(config !== 'help');
  assert.equal(config.model, 'cnn');
  assert.equal(config.batch, 128);
  assert.equal(config.optimizer, 'adam');
  assert.equal(parseTrainConfig(['--help']), 'help');
  const gpipe = parseTrainConfig(['--method', 'gpipe', '--micro-batches', '8']);
  assert.ok(gpipe !== 'help');
  assert.deepEqual([gpipe.pipeline, gpipe.microBatches, gpipe.threads], [true, 8, 1]);
  const al = parseTrainConfig(['--method', 'al', '--pipeline']);
  assert.ok(al !== 'help');
  assert.deepEqual([al.pipeline, al.workers, al.threads, al.microBatches], [true, 2, 1, undefined]);
  assert.throws(() => parseTrainConfig(['--method', 'al', '--workers', '2']), /--workers: only applies with --pipeline/);
  assert.throws(() => parseTrainConfig(['--al-layers', '3']), /--al-layers: only applies to --method al/);
  assert.throws(() => parseTrainConfig(['--method', 'al', '--model', 'cnn', '--al-layers', '9']), /--al-layers: expected 1 to 8 for cnn, got 9/);
  assert.throws(() => parseTrainConfig(['--method', 'al', '--al-layers', '0']), /--al-layers: expected an integer from 1/);
  assert.throws(() => parseTrainConfig(['--dataset', 'svhn']), /--dataset: expected one of mnist, fashion-mnist, cifar10, cifar100, npy, csv, got 'svhn'/);
});

test('train --al-cut: the unit counts per AL layer, which also give the number of layers; bad ones name the flag', () => {
  const config = parseTrainConfig(['--method', 'al', '--model', 'cnn', '--al-cut', '3, 1,2,2', '--pipeline', '--workers', '2']);
  assert.ok(config !== 'help');
  assert.deepEqual([config.alCut, config.alLayers, config.workers], [[3, 1, 2, 2], 4, 2]);
  const usage = (argv: string[], pattern: RegExp): void =>
    assert.throws(() => parseTrainConfig(['--method', 'al', '--model', 'cnn', ...argv]), (e: unknown) => e instanceof UsageError && pattern.test(e.message));
  usage(['--al-cut', '3,1,2'], /^--al-cut: expected unit counts >= 1 that add up to cnn's 8 units, got 3,1,2$/);
  usage(['--al-cut', '3,x,2,3'], /^--al-cut: expected comma-separated unit counts such as 3,1,2,2, got '3,x,2,3'$/);
  usage(['--al-cut', '4,4', '--al-layers', '4'], /^--al-cut: cuts cnn into 2 AL layers, but --al-layers is 4$/);
  usage(['--al-cut', '4,4', '--pipeline', '--workers', '3'], /^--workers: at most one stage per AL layer \(2 layers\), got 3$/);
  assert.throws(() => parseTrainConfig(['--al-cut', '4,4']), /--al-cut: only applies to --method al/);
});

test('train --hidden: a BP-trained MLP\'s widths, kept for resume; refused where it does not apply', () => {
  const config = parseTrainConfig(['--hidden', '1024, 1024,1024,1024,1024', '--method', 'gpipe']);
  assert.ok(config !== 'help');
  assert.deepEqual(config.hidden, [1024, 1024, 1024, 1024, 1024]);
  const plain = parseTrainConfig([]);
  assert.ok(plain !== 'help');
  assert.equal(plain.hidden, undefined);
  const usage = (argv: string[], pattern: RegExp): void => assert.throws(() => parseTrainConfig(argv), (e: unknown) => e instanceof UsageError && pattern.test(e.message));
  usage(['--hidden', '512,x'], /^--hidden: expected 1 to 64 comma-separated widths from 1 to 65536, such as 1024,1024,1024,1024,1024, got '512,x'$/);
  usage(['--hidden', '512,0'], /^--hidden: expected 1 to 64/);
  usage(['--hidden', '65537'], /^--hidden: expected 1 to 64/);
  usage(['--hidden', ''], /^--hidden: expected 1 to 64/);
  usage(['--hidden', Array(65).fill('8').join(',')], /^--hidden: expected 1 to 64/);
  usage(['--hidden', '512', '--model', 'cnn'], /^--hidden: only applies to --model mlp, not cnn$/);
  usage(['--hidden', '512', '--method', 'al'], /^--hidden: AL's MLP takes its widths from --t-width and --bridge/);
  usage(['--hidden', '512', '--preset', 'authors'], /^--hidden: --preset authors sets the network$/);
});

test('train: dataset flags (--label, --augment, --no-augment) resolve per dataset', () => {
  const config = (argv: string[]) => {
    const c = parseTrainConfig(argv);
    assert.ok(c !== 'help');
    return c;
  };
  const mnist = config([]);
  assert.equal(mnist.dataset, 'mnist');
  assert.equal(mnist.augment, false);
  assert.equal(mnist.label, undefined);
  const c10 = config(['--dataset', 'cifar10', '--data-dir', '/d']);
  assert.equal(c10.augment, true);
  assert.equal(c10.dataDir, '/d');
  assert.equal(config(['--dataset', 'cifar10', '--data-dir', '/d', '--no-augment']).augment, false);
  assert.equal(config(['--dataset', 'cifar10', '--data-dir', '/d', '--augment']).augment, true);
  assert.equal(config(['--dataset', 'cifar100', '--data-dir', '/d']).label, 'fine');
  assert.equal(config(['--dataset', 'cifar100', '--data-dir', '/d', '--label', 'coarse']).label, 'coarse');
  assert.equal(config(['--dataset', 'fashion-mnist']).dataDir, undefined);
  assert.throws(() => parseTrainConfig(['--dataset', 'cifar100']), (e: unknown) => e instanceof UsageError &&
    /^--data-dir: required for --dataset cifar100\. CIFAR-100 is not bundled: download the binary version \(cifar-100-binary\.tar\.gz\) from https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar\.html/.test(e.message));
  assert.equal(config(['--dataset', 'npy', '--data-dir', '/d']).dataDir, '/d');
  assert.throws(() => parseTrainConfig(['--dataset', 'npy']), /^UsageError: --data-dir: required for --dataset npy: expected train_x\.npy, train_y\.npy, test_x\.npy and test_y\.npy in the --data-dir folder/);
  assert.throws(() => parseTrainConfig(['--dataset', 'csv', '--data-dir', '/d', '--augment']), /--augment: csv has no training augmentation/);
  assert.throws(() => parseTrainConfig(['--label', 'fine']), /--label: only applies to --dataset cifar100, not mnist/);
  assert.throws(() => parseTrainConfig(['--dataset', 'cifar100', '--data-dir', '/d', '--label', 'x']), /--label: expected one of fine, coarse, got 'x'/);
  assert.throws(() => parseTrainConfig(['--dataset', 'fashion-mnist', '--augment']), /--augment: fashion-mnist has no training augmentation/);
  assert.throws(() => parseTrainConfig(['--dataset', 'cifar10', '--data-dir', '/d', '--augment', '--no-augment']), /give one of them, not both/);
  // --no-augment on a dataset without augmentation asks for what is already so: accepted.
  assert.equal(config(['--no-augment']).augment, false);
});
