// loadRun: a run directory (config.json, checkpoint.json, checkpoint.safetensors) brought back
// predicts exactly what the trained model predicted, for BP and for AL from every exit layer, on
// the user's own data (npy: the input shape comes from the data) and on a built-in dataset (the
// shape follows from its name, so no data is read). Wrong or missing files are errors naming them.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNpyDataset } from '../../src/data/tabular.js';
import type { Dataset } from '../../src/data/dataset.js';
import { loadRun } from '../../src/index.js';
import { buildTrainable, type ModelConfig, type Trainable } from '../../src/run/trainable.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { runEpochs } from '../../src/train/loop.js';
import { saveTrainingCheckpoint } from '../../src/run/resume.js';
import { blobs, writeNpyBlobs } from '../util/npy_files.js';
import { tempDir } from '../util/temp_dir.js';

// No setBackend: the library's default (its entry registers the native backend) loads at the first kernel.
const base = tempDir('al-saved-run-');
const dataDir = join(base, 'data');
writeNpyBlobs(dataDir, blobs(96, 4, 3, 1), blobs(40, 4, 3, 2));
const data: Dataset = loadNpyDataset({ dataDir });

const bp: ModelConfig = { model: 'mlp', method: 'bp', optimizer: 'adam', lr: 1e-3, targetLr: undefined, weightDecay: 0, schedule: 'constant', alLayers: undefined, tWidth: undefined };
const al: ModelConfig = { ...bp, method: 'al', targetLr: 2e-3, alLayers: 3, tWidth: 8 };

/** A run directory as al train leaves it after one epoch: config.json and the checkpoint. */
async function trainRun(name: string, config: ModelConfig, settings: Record<string, unknown> = {}): Promise<{ dir: string; model: Trainable }> {
  const dir = join(base, name);
  mkdirSync(dir);
  const rng = new Rng(3);
  const model = buildTrainable(config, data.train.shape, data.train.classes, rng);
  await runEpochs(model.learner, data, { epochs: 1, batchSize: 32, rng });
  const full = { ...config, dataset: 'npy', dataDir, epochs: 1, batch: 32, seed: 3, threads: 1, ...settings };
  saveTrainingCheckpoint(dir, model, { epoch: 1, rngs: { data: rng }, config: full });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(full));
  return { dir, model };
}

const bpRun = trainRun('bp', bp);
const alRun = bpRun.then(() => trainRun('al', al));

test('a BP run predicts as the trained network did: scores, labels and accuracy', async () => {
  const { dir, model } = await bpRun;
  const run = loadRun(dir);
  assert.equal(run.depth, 0);
  assert.equal(run.epoch, 1);
  assert.deepEqual(run.input, { shape: [1, 1, 4], classes: 3 });
  const network = model.bp!.model;
  network.eval();
  const expected = network.forward(new Tensor(data.test.images, [data.test.n, 1, 1, 4])).data;
  // two batch sizes: batching must not change a sample's scores
  for (const batchSize of [500, 7]) {
    const p = run.predict(data.test.images, { batchSize });
    assert.deepEqual(p.scores, expected);
    assert.equal(p.n, 40);
    p.labels.forEach((label, i) => assert.equal(label, argmax(expected.subarray(3 * i, 3 * i + 3)), `sample ${i}`));
  }
  assert.equal(run.accuracy(), model.testAccuracy(data.test));
  // a Tensor of feature rows is the same input
  assert.deepEqual(run.predict(new Tensor(data.test.images, [40, 4])).labels, run.predict(data.test.images).labels);
});

test('an AL run predicts from every exit layer as the trained net did', async () => {
  const { dir, model } = await alRun;
  const run = loadRun(dir);
  assert.equal(run.depth, 3);
  const net = model.al!.net;
  net.train(false);
  const x = new Tensor(data.test.images, [data.test.n, 1, 1, 4]);
  const seen = new Set<string>();
  for (let exit = 1; exit <= 3; exit++) {
    const p = run.predict(x, { exit });
    assert.deepEqual(p.scores, net.predict(x, exit).data, `exit ${exit}`);
    assert.equal(run.accuracy(run.testData(), { exit }), model.testAccuracy(data.test, exit), `exit ${exit}`);
    seen.add(Array.from(p.scores.subarray(0, 3)).join());
  }
  assert.equal(seen.size, 3, 'each exit layer predicts with its own decoders');
  assert.deepEqual(run.predict(x).scores, run.predict(x, { exit: 3 }).scores, 'the default exit is the last layer');
});

test('bad predict arguments: exit layers outside 1..L, an exit on BP, partial samples', async () => {
  const alSaved = loadRun((await alRun).dir), bpSaved = loadRun((await bpRun).dir);
  for (const exit of [0, 4, 1.5]) {
    assert.throws(() => alSaved.predict(data.test.images, { exit }), new RegExp(`^RangeError: predict: expected an exit layer from 1 to 3 for exit, got ${exit}$`));
  }
  assert.throws(() => bpSaved.predict(data.test.images, { exit: 1 }), /predict: exit: only AL runs have exit layers; .*bp is a --method bp run/);
  assert.throws(() => alSaved.predict(new Float32Array(10)), /predict: expected whole samples of \[1, 1, 4\] \(4 values each\) for x, got 10 values/);
  assert.throws(() => alSaved.predict(new Tensor(new Float32Array(15), [3, 5])), /predict: expected whole samples of \[1, 1, 4\] .* got shape \[3, 5\]/);
  assert.throws(() => alSaved.predict(data.test.images, { batchSize: 0 }), /predict: expected an integer >= 1 for batchSize, got 0/);
});

test('a run on a built-in dataset loads without reading the data; testData reads it when asked', async () => {
  const config: ModelConfig = { ...al, alLayers: 2 };
  const rng = new Rng(1);
  const model = buildTrainable(config, [28, 28, 1], 10, rng);
  const dir = join(base, 'mnist');
  mkdirSync(dir);
  const missing = join(base, 'no-such-data');
  const full = { ...config, dataset: 'mnist', dataDir: missing, epochs: 1, batch: 8, seed: 1, threads: 1 };
  saveTrainingCheckpoint(dir, model, { epoch: 1, rngs: { data: rng }, config: full });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(full));
  const run = loadRun(dir);
  assert.deepEqual(run.input, { shape: [28, 28, 1], classes: 10 });
  const x = new Float32Array(2 * 784).map((_, i) => Math.sin(i));
  model.al!.net.train(false);
  assert.deepEqual(run.predict(x, { exit: 1 }).scores, model.al!.net.predict(new Tensor(x, [2, 28, 28, 1]), 1).data);
  assert.throws(() => run.testData(), /no-such-data/);
});

test('missing or wrong files: errors name the file', async () => {
  const { dir } = await alRun;
  const copy = (name: string, files: string[]): string => {
    const to = join(base, name);
    trainDirCopy(dir, to, files);
    return to;
  };
  assert.throws(() => loadRun(join(base, 'nothing')), /nothing\/config\.json: cannot read the run's configuration \(ENOENT\)/);
  const noCheckpoint = copy('no-checkpoint', ['config.json']);
  assert.throws(() => loadRun(noCheckpoint), /no-checkpoint\/checkpoint\.json: cannot read the checkpoint \(ENOENT\): no epoch of this run has finished yet/);
  const noTensors = copy('no-tensors', ['config.json', 'checkpoint.json']);
  assert.throws(() => loadRun(noTensors), /no-tensors\/checkpoint\.safetensors: cannot read the checkpoint \(ENOENT\)/);
  const badConfig = copy('bad-config', ['checkpoint.json', 'checkpoint.safetensors']);
  writeFileSync(join(badConfig, 'config.json'), '{"model": "mlp"');
  assert.throws(() => loadRun(badConfig), /bad-config\/config\.json: cannot read the run's configuration/);
  writeFileSync(join(badConfig, 'config.json'), JSON.stringify({ ...configOf(dir), dataset: 'imagenet' }));
  assert.throws(() => loadRun(badConfig), /bad-config\/config\.json: setting 'dataset': expected one of mnist, .*, got "imagenet"/);
  // the BP network's checkpoint under the AL run's config.json
  const swapped = copy('swapped', ['config.json']);
  for (const file of ['checkpoint.json', 'checkpoint.safetensors']) copyFileSync(join((await bpRun).dir, file), join(swapped, file));
  assert.throws(() => loadRun(swapped), /swapped\/checkpoint\.safetensors: has no tensor 'layers\.1\.f\.\d+\.weight'/);
  // own data that cannot be read any more: its shape is unknown
  const noData = copy('no-data', ['checkpoint.json', 'checkpoint.safetensors']);
  writeFileSync(join(noData, 'config.json'), JSON.stringify({ ...configOf(dir), dataDir: join(base, 'gone') }));
  assert.throws(() => loadRun(noData), /no-data\/config\.json: a run on npy data takes its input shape and classes from the data, which could not be read \(.*gone.*\); pass dataDir/);
  assert.equal(loadRun(noData, { dataDir }).depth, 3, 'dataDir points at the data again');
});

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

function trainDirCopy(from: string, to: string, files: string[]): void {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const file of files) copyFileSync(join(from, file), join(to, file));
}

function configOf(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
}
