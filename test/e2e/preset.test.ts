// al train --preset authors as a user runs it: the resolved settings in config.json, the
// authors' VGG-AL (no batch norm) built, trained, saved and evaluated again from its config, and
// MNIST prepared as their code does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeCifar10 } from '../util/cifar_files.js';
import { runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const tmp = tempDir('al-e2e-preset-');
const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 180_000 });
const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;

/** The tensor names of a safetensors file (its JSON header). */
function tensorNames(file: string): string[] {
  const bytes = readFileSync(file);
  const size = Number(bytes.readBigUInt64LE(0));
  return Object.keys(JSON.parse(bytes.subarray(8, 8 + size).toString('utf8')) as object).filter((k) => k !== '__metadata__');
}

test('--preset authors --model vgg --dataset cifar10 --method al: VGG-AL without batch norm, the authors\' settings in config.json', () => {
  const data = join(tmp, 'c10');
  writeCifar10(join(data, 'cifar-10-batches-bin'), 4);
  const out = join(tmp, 'vgg-al');
  // --t-width 8 and --epochs 1 override the preset (the authors' 300-wide bridges take 100M weights)
  const r = run(['train', '--preset', 'authors', '--model', 'vgg', '--dataset', 'cifar10', '--data-dir', data, '--method', 'al',
    '--t-width', '8', '--epochs', '1', '--threads', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /preset authors: lr 0\.0001, batch 32, 1 epochs, paper schedule, weight decay 0\.00001 on conv-kernels \(of f\), no shuffling, the authors' network/);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(
    ['preset', 'variant', 'lr', 'targetLr', 'batch', 'epochs', 'schedule', 'weightDecay', 'decayOn', 'shuffle', 'augment', 'alLayers', 'tWidth', 'optimizer'].map((k) => config[k]),
    ['authors', 'authors', 1e-4, 2e-4, 32, 1, 'paper', 1e-5, 'conv-kernels', false, true, 4, 8, 'adam']);
  const names = tensorNames(join(out, 'checkpoint.safetensors'));
  assert.ok(names.some((n) => n.startsWith('layers.1.f.')));
  assert.deepEqual(names.filter((n) => /running(Mean|Var)/.test(n)), [], 'no batch norm anywhere');
  const e = run(['eval', out, '--json', '--threads', '1']);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(typeof lastJson(e.stdout)['testAccuracy'], 'number');
});

test('--preset authors on MNIST, BP: mean-image data, no shuffling; eval rebuilds it from config.json; gpipe is refused', () => {
  const out = join(tmp, 'mlp-bp');
  const r = run(['train', '--preset', 'authors', '--model', 'mlp', '--method', 'bp', '--limit', '256', '--epochs', '1', '--threads', '1', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(['preset', 'lr', 'batch', 'normalize', 'shuffle', 'weightDecay', 'variant'].map((k) => config[k]), ['authors', 1e-4, 32, 'mean-image', false, 0, 'authors']);
  const accuracy = lastJson(r.stdout)['testAccuracy'];
  const e = run(['eval', out, '--json', '--threads', '1']);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(lastJson(e.stdout)['testAccuracy'], accuracy, 'the same test set, prepared the same way');
  const bad = run(['train', '--preset', 'authors', '--method', 'gpipe', '--out', join(tmp, 'never')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--preset authors: for --method bp and al \(the authors' code has no pipelined BP\), not gpipe/);
});
