// config.json read back for a saved run: the settings every run has are checked (an error names
// the file and the setting), and the input of a built-in dataset follows from its name alone.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { knownInput, readRunConfig } from '../../../src/run/run_config.js';
import { tempDir } from '../../util/temp_dir.js';

const base = tempDir('al-run-config-');
const good = { model: 'mlp', dataset: 'mnist', method: 'al', optimizer: 'adam', schedule: 'paper', epochs: 2, batch: 32, seed: 1, threads: 1, lr: 1e-3, weightDecay: 0, alLayers: 3 };

function runDir(name: string, config: unknown): string {
  const dir = join(base, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

test('a config.json of al train reads back with its settings', () => {
  assert.deepEqual(readRunConfig(runDir('good', good)), good);
});

test('a missing, malformed or incomplete config.json: a CheckpointError naming the file and setting', () => {
  assert.throws(() => readRunConfig(join(base, 'none')), /^CheckpointError: .*none\/config\.json: cannot read the run's configuration \(ENOENT\)$/);
  assert.throws(() => readRunConfig(runDir('truncated', '{"model":')), /truncated\/config\.json: cannot read the run's configuration \(.*JSON.*\)/);
  assert.throws(() => readRunConfig(runDir('array', [good])), /array\/config\.json: expected a JSON object$/);
  const { seed: _seed, ...noSeed } = good;
  assert.throws(() => readRunConfig(runDir('no-seed', noSeed)), /no-seed\/config\.json: setting 'seed': expected a number, got undefined$/);
  assert.throws(() => readRunConfig(runDir('nan-lr', { ...good, lr: 'fast' })), /nan-lr\/config\.json: setting 'lr': expected a number, got "fast"$/);
  assert.throws(() => readRunConfig(runDir('svhn', { ...good, dataset: 'svhn' })), /svhn\/config\.json: setting 'dataset': expected one of mnist, fashion-mnist, cifar10, cifar100, npy, csv, got "svhn"$/);
});

test("the built-in datasets' input shape and classes; the user's own data has none without reading it", () => {
  assert.deepEqual(knownInput({ dataset: 'mnist' }), { shape: [28, 28, 1], classes: 10 });
  assert.deepEqual(knownInput({ dataset: 'fashion-mnist' }), { shape: [28, 28, 1], classes: 10 });
  assert.deepEqual(knownInput({ dataset: 'cifar10' }), { shape: [32, 32, 3], classes: 10 });
  assert.deepEqual(knownInput({ dataset: 'cifar100' }), { shape: [32, 32, 3], classes: 100 });
  assert.deepEqual(knownInput({ dataset: 'cifar100', label: 'coarse' }), { shape: [32, 32, 3], classes: 20 });
  assert.equal(knownInput({ dataset: 'npy' }), null);
  assert.equal(knownInput({ dataset: 'csv' }), null);
});
