// `al train` and `al eval` on every dataset, as a user runs them: CIFAR from small files in the
// official binary layout (CIFAR cannot be downloaded here), Fashion-MNIST from Debian's package,
// and the bad-input paths (exit 2, a message naming the flag or file).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FASHION_MNIST_DEBIAN_DIR } from '../../src/data/fashion_mnist.js';
import { writeCifar10, writeCifar100 } from '../util/cifar_files.js';
import { runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const tmp = tempDir('al-e2e-data-');

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 180_000 });

const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;

test('ResNet-20 on CIFAR-10 files in the official layout: one augmented epoch, exit 0', () => {
  const data = join(tmp, 'c10');
  // 5 x 16 training records; the archive's folder name inside --data-dir, as after tar xzf.
  writeCifar10(join(data, 'cifar-10-batches-bin'), 16);
  const out = join(tmp, 'run-c10');
  const r = run(['train', '--model', 'resnet20', '--dataset', 'cifar10', '--data-dir', data, '--epochs', '1', '--limit', '64', '--batch', '32', '--threads', '1', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = lastJson(r.stdout);
  assert.equal(summary['runDir'], out);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.dataset, 'cifar10');
  assert.equal(config.augment, true);
  assert.equal(config.label, undefined);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.length, 1);
  assert.ok(Number.isFinite(metrics[0].trainLoss));
  // The checkpoint evaluates on the same data.
  const e = run(['eval', out, '--json']);
  assert.equal(e.code, 0, e.stderr);
  assert.ok(typeof lastJson(e.stdout)['testAccuracy'] === 'number');
});

test('CIFAR-100 with coarse labels and no augmentation; al eval reads the run\'s label set', () => {
  const data = join(tmp, 'c100');
  writeCifar100(data, 40, 10);
  const out = join(tmp, 'run-c100');
  const r = run(['train', '--model', 'cnn', '--dataset', 'cifar100', '--label', 'coarse', '--no-augment', '--data-dir', data, '--epochs', '1', '--batch', '20', '--threads', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cnn on cifar100 \(40 training samples\)/);
  assert.doesNotMatch(r.stdout, /augmentation:/);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.label, 'coarse');
  assert.equal(config.augment, false);
  // 20 coarse classes: the last layer has 20 outputs, which only loads against coarse labels.
  const e = run(['eval', out, '--json']);
  assert.equal(e.code, 0, e.stderr);
});

test('bad CIFAR input exits 2 naming the flag or the file', () => {
  const noDir = run(['train', '--dataset', 'cifar10']);
  assert.equal(noDir.code, 2);
  assert.match(noDir.stderr, /--data-dir: required for --dataset cifar10\. .*https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar\.html/);
  const missing = join(tmp, 'missing');
  const gone = run(['train', '--dataset', 'cifar100', '--data-dir', missing]);
  assert.equal(gone.code, 2);
  assert.ok(gone.stderr.includes(`${missing}: folder not found: CIFAR-100 is not bundled: download the binary version (cifar-100-binary.tar.gz)`), gone.stderr);

  const data = join(tmp, 'bad');
  writeCifar10(data, 2);
  const batch = join(data, 'data_batch_2.bin');
  truncateSync(batch, 3073 * 2 - 5);
  const cut = run(['train', '--dataset', 'cifar10', '--data-dir', data, '--epochs', '1']);
  assert.equal(cut.code, 2);
  assert.ok(cut.stderr.includes(`${batch}: size 6141 bytes is not a whole number of 3073-byte records`), cut.stderr);
  writeCifar10(data, 2);
  const testFile = join(data, 'test_batch.bin');
  const bytes = readFileSync(testFile);
  bytes[3073] = 200;
  writeFileSync(testFile, bytes);
  const label = run(['train', '--dataset', 'cifar10', '--data-dir', data, '--epochs', '1']);
  assert.equal(label.code, 2);
  assert.ok(label.stderr.includes(`${testFile}: record 1 (byte offset 3073): label 200 out of range: expected 0..9`), label.stderr);

  for (const [args, message] of [
    [['--dataset', 'cifar10', '--data-dir', data, '--label', 'fine'], /--label: only applies to --dataset cifar100, not cifar10/],
    [['--dataset', 'cifar100', '--data-dir', data, '--label', 'medium'], /--label: expected one of fine, coarse, got 'medium'/],
    [['--dataset', 'mnist', '--augment'], /--augment: mnist has no training augmentation/],
    [['--dataset', 'cifar10', '--data-dir', data, '--augment', '--no-augment'], /--augment and --no-augment: give one of them/],
  ] as const) {
    const r = run(['train', ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});

const fashionInstalled = existsSync(join(FASHION_MNIST_DEBIAN_DIR, 'train-images-idx3-ubyte.gz'));

test('Fashion-MNIST from Debian\'s dataset-fashion-mnist trains; a wrong --data-dir says how to install it', { skip: !fashionInstalled && 'dataset-fashion-mnist is not installed (bash scripts/setup.sh installs it)' }, () => {
  const out = join(tmp, 'run-fashion');
  const r = run(['train', '--model', 'mlp', '--dataset', 'fashion-mnist', '--limit', '512', '--epochs', '1', '--batch', '64', '--threads', '1', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok((lastJson(r.stdout)['testAccuracy'] as number) > 0.3, r.stdout);
  const bad = run(['train', '--dataset', 'fashion-mnist', '--data-dir', join(tmp, 'nowhere')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /folder not found: install Debian's package with `sudo apt-get install dataset-fashion-mnist`/);
});
