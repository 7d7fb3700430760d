// `al train --dataset npy|csv` on a user's own files, as a user runs it: Gaussian blobs a network
// separates in one epoch, written byte by byte here and, when NumPy is installed, by np.save and
// pandas-style text; then the bad-input paths (exit 2, a message naming the file).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAl, type CliResult } from '../util/al_cli.js';
import { blobs, npyBytes, writeCsvBlobs, writeNpyBlobs } from '../util/npy_files.js';
import { tempDir } from '../util/temp_dir.js';

const tmp = tempDir('al-e2e-own-');
const PYTHON = '/usr/bin/python3';

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 180_000 });

// 3 classes: chance is 1/3; 25 steps of 16 take the AL MLP well past it
const TRAIN = blobs(400, 6, 3, 11);
const TEST = blobs(120, 6, 3, 12);
const SMALL = ['--model', 'mlp', '--method', 'al', '--epochs', '1', '--batch', '16', '--threads', '1'];

function accuracyOf(r: CliResult): number {
  assert.equal(r.code, 0, r.stderr);
  const m = /done in .*: test accuracy ([\d.]+)%/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return Number(m![1]) / 100;
}

test('al train --dataset npy: the AL MLP takes its input width from (n, features) and learns the blobs', () => {
  const data = join(tmp, 'npy');
  writeNpyBlobs(data, TRAIN, TEST);
  const out = join(tmp, 'run-npy');
  const r = run(['train', '--dataset', 'npy', '--data-dir', data, ...SMALL, '--out', out]);
  const accuracy = accuracyOf(r);
  assert.match(r.stdout, /mlp on npy \(400 training samples\), method al/);
  assert.ok(accuracy > 0.6, `test accuracy ${accuracy} is not clearly above chance (1/3)`);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.dataset, 'npy');
  // the run evaluates again from its directory, reading the same files
  const e = run(['eval', out, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim());
  assert.equal(JSON.parse(e.stdout.trim().split('\n').pop()!).testAccuracy, metrics.testAccuracy);
});

test('al train --dataset csv learns the same blobs, with the same result as the same values in .npy', () => {
  const data = join(tmp, 'csv');
  writeCsvBlobs(data, TRAIN, TEST);
  const r = run(['train', '--dataset', 'csv', '--data-dir', data, ...SMALL, '--out', join(tmp, 'run-csv'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(summary.testAccuracy > 0.6, `test accuracy ${summary.testAccuracy} is not clearly above chance (1/3)`);
  // CSV holds each float32 exactly, so training is the npy run's, bit for bit
  const npy = JSON.parse(readFileSync(join(tmp, 'run-npy', 'metrics.jsonl'), 'utf8').trim());
  const csv = JSON.parse(readFileSync(join(tmp, 'run-csv', 'metrics.jsonl'), 'utf8').trim());
  assert.equal(csv.trainLoss, npy.trainLoss);
  assert.equal(csv.testAccuracy, npy.testAccuracy);
});

const numpy = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
const noNumpy = numpy.status === 0 ? false : `${PYTHON} cannot import numpy (scripts/setup.sh installs python3-numpy)`;

test('files written by NumPy: np.save (.npy) and a CSV train the AL MLP', { skip: noNumpy }, () => {
  const data = join(tmp, 'numpy');
  const script = `
import numpy as np, os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(0)
def blobs(n):
    y = rng.integers(0, 3, n)
    x = (rng.normal(size=(n, 6)) + 3 * np.eye(6)[y]).astype(np.float32)
    return x, y
for name, n in (('train', 400), ('test', 120)):
    x, y = blobs(n)
    np.save(os.path.join(d, name + '_x.npy'), x)
    np.save(os.path.join(d, name + '_y.npy'), y)
    np.savetxt(os.path.join(d, name + '.csv'), np.column_stack([x, y]), delimiter=',', fmt='%.9g',
               header=','.join(['f%d' % i for i in range(6)] + ['label']), comments='')
np.save(os.path.join(d, 'x64.npy'), x.astype(np.float64))
`;
  const py = spawnSync(PYTHON, ['-c', script, data], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  for (const dataset of ['npy', 'csv']) {
    const accuracy = accuracyOf(run(['train', '--dataset', dataset, '--data-dir', data, ...SMALL, '--out', join(tmp, `run-numpy-${dataset}`)]));
    assert.ok(accuracy > 0.6, `${dataset}: test accuracy ${accuracy} is not clearly above chance (1/3)`);
  }
  // x.astype(np.float64), the usual slip: NumPy's default float type
  writeFileSync(join(data, 'test_x.npy'), readFileSync(join(data, 'x64.npy')));
  const r = run(['train', '--dataset', 'npy', '--data-dir', data, ...SMALL]);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(`${join(data, 'test_x.npy')}: dtype float64 (<f8); expected float32 or uint8 — convert with x.astype(np.float32)`), r.stderr);
});

test('bad input exits 2 naming the file: float64 x, a label outside the classes, a ragged row, a CNN on tabular data', () => {
  const bad = (name: string): string => {
    const dir = join(tmp, name);
    writeNpyBlobs(dir, blobs(8, 2, 2, 1), blobs(4, 2, 2, 2));
    return dir;
  };
  let dir = bad('f64');
  writeFileSync(join(dir, 'train_x.npy'), npyBytes('<f8', [8, 2], new Float64Array(16)));
  let r = run(['train', '--dataset', 'npy', '--data-dir', dir, ...SMALL]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `al train: ${join(dir, 'train_x.npy')}: dtype float64 (<f8); expected float32 or uint8 — convert with x.astype(np.float32)\n`);

  dir = bad('label');
  writeFileSync(join(dir, 'test_y.npy'), npyBytes('|u1', [4], Uint8Array.from([0, 1, 5, 1])));
  r = run(['train', '--dataset', 'npy', '--data-dir', dir, ...SMALL]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `al train: ${join(dir, 'test_y.npy')}: label 5 at index 2 is not a training class: the training labels are 0..1\n`);

  dir = join(tmp, 'ragged');
  writeCsvBlobs(dir, blobs(8, 2, 2, 1), blobs(4, 2, 2, 2));
  writeFileSync(join(dir, 'train.csv'), 'f0,f1,label\n0.5,1,0\n0.25,1\n');
  r = run(['train', '--dataset', 'csv', '--data-dir', dir, ...SMALL]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `al train: ${join(dir, 'train.csv')}: line 3: 2 cells, expected 3 as in the header (line 1)\n`);

  r = run(['train', '--dataset', 'npy', '--data-dir', bad('cnn'), '--model', 'cnn', '--epochs', '1', '--out', join(tmp, 'never')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^al train: --model cnn: a convolutional network needs images, x shaped \(n, h, w\) or \(n, h, w, c\); train_x\.npy is shaped \(n, 2\), tabular data: use --model mlp\n/);
  assert.throws(() => readFileSync(join(tmp, 'never', 'config.json')), /ENOENT/, 'a refused run leaves no run directory');

  r = run(['train', '--dataset', 'csv']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--data-dir: required for --dataset csv: expected train\.csv and test\.csv in the --data-dir folder/);
});
