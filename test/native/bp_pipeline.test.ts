// The BP baselines on the pipeline engine. GPipe's flush makes its update ordinary BP on the whole
// mini-batch: with SGD (an update proportional to the gradient) the weights after several
// mini-batches agree with sequential BP up to float summation order, stated below. The naive
// schedule's weights do not: its gradients are stale, which is the point of building it.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import type { Dataset } from '../../src/data/dataset.js';
import { randomSplit } from '../../src/data/synthetic.js';
import { buildModel, type ModelName } from '../../src/models/index.js';
import type { Sequential } from '../../src/nn/container.js';
import { createOptimizer, type OptimizerSettings } from '../../src/optim/factory.js';
import { BpPipeline } from '../../src/pipeline/bp/bp_pipeline.js';
import type { BpPipelineMethod } from '../../src/pipeline/bp/bp_stage.js';
import { runPipelinedEpochs } from '../../src/pipeline/runtime/run_pipelined.js';
import { Rng } from '../../src/tensor/rng.js';
import { BpLearner } from '../../src/train/bp_trainer.js';
import { runEpochs } from '../../src/train/loop.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(1);
});

const shape: [number, number, number] = [8, 8, 1];
const data: Dataset = { train: randomSplit(96, shape, 10, 1), test: randomSplit(16, shape, 10, 2) };
const settings: OptimizerSettings = { kind: 'sgd', lr: 0.05, weightDecay: 0 };
// the Vanilla CNN: 8 conv units, Flatten, 5 dense units, the classifier: 15 top-level modules
const CNN: Net = { model: 'cnn', stages: [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14]] };

interface Net {
  model: ModelName;
  hidden?: number[];
  stages: number[][];
}

const weights = (model: Sequential): Float32Array[] => model.parameters().map((p) => p.data);

async function sequentialBp(net: Net = CNN): Promise<{ init: Float32Array[]; trained: Float32Array[] }> {
  const rng = new Rng(11);
  const model = buildModel(net.model, { inputShape: shape, classes: 10, rng, hidden: net.hidden });
  const init = weights(model).map((w) => w.slice());
  await runEpochs(new BpLearner(model, createOptimizer(model.parameters(), settings), () => settings.lr), data, { epochs: 1, batchSize: 16, rng });
  return { init, trained: weights(model) };
}

async function pipelinedBp(method: BpPipelineMethod, net: Net = CNN): Promise<{ trained: Float32Array[]; staleness: number; trainAccuracy: number }> {
  const rng = new Rng(11);
  const network = buildModel(net.model, { inputShape: shape, classes: 10, rng, hidden: net.hidden });
  const optimizer = createOptimizer(network.parameters(), settings);
  const pipeline = await BpPipeline.start({
    method, model: net.model, inputShape: shape, classes: 10, ...(net.hidden ? { hidden: net.hidden } : {}), network, optimizer, settings, milestones: [],
    stages: net.stages, microBatches: 4, threads: 1,
  });
  try {
    const [m] = await runPipelinedEpochs(pipeline, data, {
      epochs: 1, batchSize: 16, rng, testAccuracy: () => 0, lr: () => optimizer.lr, reportStaleness: true,
    });
    return { trained: weights(network), staleness: m!.staleness!, trainAccuracy: m!.trainAccuracy };
  } finally {
    await pipeline.close();
  }
}

const maxDiff = (a: Float32Array[], b: Float32Array[]): number =>
  Math.max(...a.map((x, i) => x.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i]![j]!)), 0)));

test('GPipe (2 stages, 4 micro-batches) updates exactly as BP on the whole mini-batch; naive pipelining does not', async () => {
  const bp = await sequentialBp();
  const gpipe = await pipelinedBp('gpipe');
  const naive = await pipelinedBp('naive-pipeline');
  const moved = maxDiff(bp.trained, bp.init);
  const gpipeDiff = maxDiff(gpipe.trained, bp.trained);
  const naiveDiff = maxDiff(naive.trained, bp.trained);
  assert.ok(moved > 1e-3, `training moved the weights by ${moved}`);
  // tolerance: micro-batch gradients summed in another order, in float32, over 6 SGD steps
  assert.ok(gpipeDiff < 1e-5 * Math.max(1, moved) + 1e-6, `GPipe vs BP: ${gpipeDiff}`);
  assert.equal(gpipe.staleness, 0);
  assert.ok(gpipe.trainAccuracy >= 0 && gpipe.trainAccuracy <= 1);
  // stale gradients: the naive schedule's weights leave BP's by orders of magnitude more
  assert.ok(naive.staleness > 0, `naive staleness ${naive.staleness}`);
  assert.ok(naiveDiff > 100 * gpipeDiff && naiveDiff > 1e-4, `naive vs BP: ${naiveDiff} (GPipe: ${gpipeDiff})`);
});

test('GPipe on an MLP of other widths (--hidden): the stages build the same network and update as BP', async () => {
  // Flatten, 3 hidden units, the classifier: 5 top-level modules
  const mlp: Net = { model: 'mlp', hidden: [24, 40, 12], stages: [[0, 1, 2], [3, 4]] };
  const bp = await sequentialBp(mlp);
  assert.deepEqual(bp.trained.map((w) => w.length), [64 * 24, 24, 24 * 40, 40, 40 * 12, 12, 12 * 10, 10]);
  const gpipe = await pipelinedBp('gpipe', mlp);
  const moved = maxDiff(bp.trained, bp.init), diff = maxDiff(gpipe.trained, bp.trained);
  assert.ok(moved > 1e-3, `training moved the weights by ${moved}`);
  assert.ok(diff < 1e-5 * Math.max(1, moved) + 1e-6, `GPipe vs BP: ${diff}`);
});
