// Saving and restoring a whole training state on small models (reference backend): a run stopped
// after an epoch, or in the middle of one, and resumed in new objects ends bit-identical to one
// that ran through; a checkpoint of another model, shape, optimizer or configuration is refused
// with the file and the tensor or setting named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import type { Dataset, Split } from '../../../src/data/dataset.js';
import { Activation, BatchNorm, Flatten, Linear, Sequential } from '../../../src/nn/index.js';
import { Adam } from '../../../src/optim/adam.js';
import type { Optimizer } from '../../../src/optim/optimizer.js';
import { SGD } from '../../../src/optim/sgd.js';
import { Rng } from '../../../src/tensor/rng.js';
import { BpLearner } from '../../../src/train/bp_trainer.js';
import { decodeSafetensors } from '../../../src/train/checkpoint.js';
import { INFO_FILE, TENSORS_FILE } from '../../../src/train/checkpoint_files.js';
import { runEpochs } from '../../../src/train/loop.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint, type TrainingState } from '../../../src/run/resume.js';
import { tempDir } from '../../util/temp_dir.js';

before(() => setBackend(referenceBackend));

function split(n: number, seed: number): Split {
  const rng = new Rng(seed);
  return { images: Float32Array.from({ length: n * 6 }, () => rng.normal()), labels: Int32Array.from({ length: n }, () => rng.int(3)), n, shape: [2, 3, 1], classes: 3 };
}
const data: Dataset = { train: split(40, 1), test: split(12, 2) };

interface Setup { hidden?: number; optimizer?: 'adam' | 'sgd' | 'plain-sgd'; seed?: number }

function build(setup: Setup = {}): { state: TrainingState; learner: BpLearner; rng: Rng; optimizer: Optimizer } {
  const rng = new Rng(setup.seed ?? 4);
  const hidden = setup.hidden ?? 5;
  const model = new Sequential(new Flatten(), new Linear(6, hidden, rng), new BatchNorm(hidden), new Activation('relu'), new Linear(hidden, 3, rng));
  const kind = setup.optimizer ?? 'adam';
  const lr = kind === 'adam' ? 0.02 : 0.05;
  const optimizer = kind === 'adam' ? new Adam(model.parameters(), { lr }) : new SGD(model.parameters(), { lr, momentum: kind === 'sgd' ? 0.9 : 0 });
  // A stepped schedule, so that the resumed epochs must get their rates right too.
  const learner = new BpLearner(model, optimizer, (epoch) => (epoch >= 2 ? 0.1 * lr : lr));
  const state: TrainingState = { namedParameters: () => model.namedParameters(), namedBuffers: () => model.namedBuffers(), optimizers: () => [optimizer] };
  return { state, learner, rng, optimizer };
}

/** Every bit of the state: tensors, buffers, optimizer scalars and buffers, the Rng. */
function snapshot(s: ReturnType<typeof build>): string[] {
  const hex = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
  const o = s.optimizer.state();
  return [
    ...s.state.namedParameters().map(([n, t]) => `${n}=${hex(t.data)}`),
    ...s.state.namedBuffers().map(([n, b]) => `${n}=${hex(b)}`),
    `step=${o.step} lr=${o.lr}`,
    ...Object.entries(o.buffers).flatMap(([k, bs]) => bs.map((b, j) => `${k}.${j}=${hex(b)}`)),
    `rng=${s.rng.getState().join(',')}`,
  ];
}

const EPOCHS = 4;

async function straight(setup: Setup): Promise<string[]> {
  const s = build(setup);
  await runEpochs(s.learner, data, { epochs: EPOCHS, batchSize: 8, rng: s.rng });
  return snapshot(s);
}

/** Trains until `stopAfterSteps` steps (saving after every finished epoch), then resumes in new objects. */
async function interrupted(setup: Setup, stopAfterSteps: number): Promise<{ final: string[]; savedEpoch: number }> {
  const dir = tempDir('al-resume-');
  const first = build(setup);
  let steps = 0;
  const step = first.learner.step.bind(first.learner);
  first.learner.step = (x, labels) => {
    steps++;
    return step(x, labels);
  };
  await runEpochs(first.learner, data, {
    epochs: EPOCHS, batchSize: 8, rng: first.rng, shouldStop: () => steps >= stopAfterSteps,
    onEpoch: (m) => saveTrainingCheckpoint(dir, first.state, { epoch: m.epoch, rngs: { data: first.rng }, config: { hidden: setup.hidden ?? 5 } }),
  });
  const second = build(setup);
  const info = loadTrainingCheckpoint(dir, second.state, { rngs: { data: second.rng } });
  await runEpochs(second.learner, data, { epochs: EPOCHS, startEpoch: info.epoch, batchSize: 8, rng: second.rng });
  return { final: snapshot(second), savedEpoch: info.epoch };
}

for (const optimizer of ['adam', 'sgd', 'plain-sgd'] as const) {
  test(`${optimizer}: stopped after epoch 2, or in epoch 3, and resumed: bit-identical to a straight run`, async () => {
    const reference = await straight({ optimizer });
    const atBoundary = await interrupted({ optimizer }, 10); // 5 batches an epoch: exactly 2 epochs
    assert.equal(atBoundary.savedEpoch, 2);
    assert.deepEqual(atBoundary.final, reference);
    const midEpoch = await interrupted({ optimizer }, 13); // in epoch 3: the checkpoint keeps epoch 2
    assert.equal(midEpoch.savedEpoch, 2);
    assert.deepEqual(midEpoch.final, reference);
    // and the comparison can fail: one epoch less is another state
    const short = build({ optimizer });
    await runEpochs(short.learner, data, { epochs: EPOCHS - 1, batchSize: 8, rng: short.rng });
    assert.notDeepEqual(snapshot(short), reference);
  });
}

async function savedRun(setup: Setup): Promise<string> {
  const dir = tempDir('al-resume-');
  const s = build(setup);
  await runEpochs(s.learner, data, { epochs: 1, batchSize: 8, rng: s.rng });
  saveTrainingCheckpoint(dir, s.state, { epoch: 1, rngs: { data: s.rng }, config: { model: 'tiny', hidden: setup.hidden ?? 5 } });
  return dir;
}

test('the tensor names of checkpoint.safetensors: parameters, buffers, optim.<parameter>.<kind>', async () => {
  const dir = await savedRun({});
  const names = [...decodeSafetensors(readFileSync(join(dir, TENSORS_FILE)), 'c').keys()];
  assert.deepEqual(names, [
    '1.weight', '1.bias', '2.weight', '2.bias', '4.weight', '4.bias', '2.runningMean', '2.runningVar',
    ...['1.weight', '1.bias', '2.weight', '2.bias', '4.weight', '4.bias'].map((p) => `optim.${p}.m`),
    ...['1.weight', '1.bias', '2.weight', '2.bias', '4.weight', '4.bias'].map((p) => `optim.${p}.v`),
  ]);
  const info = JSON.parse(readFileSync(join(dir, INFO_FILE), 'utf8'));
  assert.deepEqual(info.optimizers[0].parameters, ['1.weight', '1.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
  assert.equal(info.optimizers[0].step, 5);
  const sgd = await savedRun({ optimizer: 'plain-sgd' });
  assert.ok(![...decodeSafetensors(readFileSync(join(sgd, TENSORS_FILE)), 'c').keys()].some((n) => n.startsWith('optim.')));
});

test('another shape, model, optimizer, stream or configuration: refused, naming the file and what differs', async () => {
  const dir = await savedRun({});
  const tensors = join(dir, TENSORS_FILE), info = join(dir, INFO_FILE);
  const load = (setup: Setup, rngs: Record<string, Rng> = { data: new Rng(1) }, config?: Record<string, unknown>): unknown =>
    loadTrainingCheckpoint(dir, build(setup).state, { rngs, ...(config ? { config: { values: config, file: '/r/config.json' } } : {}) });
  assert.throws(() => load({ hidden: 7 }), new RegExp(`^CheckpointError: ${tensors}: tensor '1.weight' has shape \\[5, 6\\], the model needs \\[7, 6\\]`));
  assert.throws(() => load({ optimizer: 'sgd' }), new RegExp(`${info}: optimizer 0 is Adam, the run uses SGD`));
  assert.throws(() => load({}, { data: new Rng(1), augment: new Rng(2) }), new RegExp(`${info}: has no state for the random stream 'augment'`));
  assert.throws(() => load({}, {}), new RegExp(`${info}: holds the random stream 'data', which this run does not use`));
  assert.throws(() => load({}, { data: new Rng(1) }, { model: 'tiny', hidden: 6 }), new RegExp(`${info}: was written for hidden 5, but /r/config.json has 6`));
  // A model with fewer tensors: the checkpoint's extra tensor is named.
  const smaller = build({});
  const fewer: TrainingState = { ...smaller.state, namedBuffers: () => [] };
  assert.throws(() => loadTrainingCheckpoint(dir, fewer, { rngs: { data: smaller.rng } }), new RegExp(`${tensors}: holds tensor '2.runningMean', which the model does not have`));
  const none: TrainingState = { ...smaller.state, optimizers: () => [] };
  assert.throws(() => loadTrainingCheckpoint(dir, none, { rngs: { data: smaller.rng } }), new RegExp(`${info}: holds 1 optimizer states, the run has 0 optimizers`));
  // the same model restores
  const same = build({});
  assert.equal(loadTrainingCheckpoint(dir, same.state, { rngs: { data: same.rng }, config: { values: { model: 'tiny', hidden: 5 }, file: 'c' } }).epoch, 1);
});
