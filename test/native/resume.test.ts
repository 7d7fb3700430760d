// The resume guarantee on the real models and the native backend: a run checkpointed after
// epoch 1 (stopped there, or in the middle of epoch 2) and resumed in freshly built objects ends
// bit-identical to one that ran through: every parameter, batch-norm buffer, optimizer moment,
// step count and rate, and the RNG. BP MLP (Adam), BP ResNet-20 (SGD with momentum, batch norm)
// and sequential AL on the MLP (two Adam optimizers per layer).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, test } from 'node:test';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { buildTrainable, type ModelConfig, type Trainable } from '../../src/run/trainable.js';
import type { Dataset } from '../../src/data/dataset.js';
import { randomSplit } from '../../src/data/synthetic.js';
import { Rng } from '../../src/tensor/rng.js';
import { runEpochs } from '../../src/train/loop.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from '../../src/run/resume.js';
import { tempDir } from '../util/temp_dir.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(1);
});

const data: Dataset = { train: randomSplit(48, [28, 28, 1], 10, 1), test: randomSplit(16, [28, 28, 1], 10, 2) };
const EPOCHS = 3, BATCH = 16, SEED = 5; // 3 batches an epoch; the paper schedule steps in epoch 3

const base: ModelConfig = { model: 'mlp', method: 'bp', optimizer: 'adam', lr: 1e-3, targetLr: undefined, weightDecay: 0, schedule: 'paper', alLayers: undefined, tWidth: undefined };
const configs: [string, ModelConfig][] = [
  ['BP MLP, Adam', base],
  ['BP ResNet-20, SGD with momentum and weight decay', { ...base, model: 'resnet20', optimizer: 'sgd', lr: 0.05, weightDecay: 1e-4 }],
  ['AL MLP, 2 AL layers', { ...base, method: 'al', targetLr: 2e-3, alLayers: 2, tWidth: 32 }],
];

/** SHA-256 of every tensor's bytes, with the optimizer scalars and the RNG state. */
function fingerprint(model: Trainable, rng: Rng): string[] {
  const hash = (a: Float32Array): string => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);
  return [
    ...model.namedParameters().map(([n, t]) => `${n} ${hash(t.data)}`),
    ...model.namedBuffers().map(([n, b]) => `${n} ${hash(b)}`),
    ...model.optimizers().flatMap((o, i) => {
      const s = o.state();
      return [`optimizer ${i} step ${s.step} lr ${s.lr}`, ...Object.entries(s.buffers).flatMap(([k, bs]) => bs.map((b, j) => `optimizer ${i} ${k}.${j} ${hash(b)}`))];
    }),
    `rng ${rng.getState().join(',')}`,
  ];
}

function build(config: ModelConfig): { model: Trainable; rng: Rng } {
  const rng = new Rng(SEED);
  return { model: buildTrainable(config, data.train.shape, data.train.classes, rng), rng };
}

async function straight(config: ModelConfig): Promise<string[]> {
  const { model, rng } = build(config);
  await runEpochs(model.learner, data, { epochs: EPOCHS, batchSize: BATCH, rng });
  return fingerprint(model, rng);
}

async function resumed(config: ModelConfig, stopAfterBatches: number): Promise<string[]> {
  const dir = tempDir('al-native-resume-');
  const first = build(config);
  let batches = 0;
  await runEpochs(first.model.learner, data, {
    epochs: EPOCHS, batchSize: BATCH, rng: first.rng,
    onBatch: () => batches++,
    shouldStop: () => batches >= stopAfterBatches,
    onEpoch: (m) => saveTrainingCheckpoint(dir, first.model, { epoch: m.epoch, rngs: { data: first.rng }, config: { ...config } }),
  });
  const second = build(config);
  const info = loadTrainingCheckpoint(dir, second.model, { rngs: { data: second.rng }, config: { values: { ...config }, file: 'config' } });
  assert.equal(info.epoch, 1);
  await runEpochs(second.model.learner, data, { epochs: EPOCHS, startEpoch: info.epoch, batchSize: BATCH, rng: second.rng });
  return fingerprint(second.model, second.rng);
}

for (const [name, config] of configs) {
  test(`${name}: stopped after epoch 1 or in epoch 2, resumed, bit-identical to a straight run`, async () => {
    const reference = await straight(config);
    assert.deepEqual(await resumed(config, 3), reference);
    assert.deepEqual(await resumed(config, 4), reference);
  });
}
