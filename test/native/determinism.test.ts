// Same seed and thread count => bit-identical weights after training, for BP (with batch norm,
// pooling and a residual block) and for AL. oneDNN's kernels are deterministic for a fixed
// shape, ISA and thread count; this proves nothing else in the stack (data order, initialisers,
// optimizer state) adds randomness.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALLearner } from '../../src/al/al_learner.js';
import { buildAssociatedNet } from '../../src/al/decompositions.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import type { Dataset, Split } from '../../src/data/dataset.js';
import { Activation, BasicBlock, BatchNorm, Conv2d, Flatten, Linear, MaxPool2d, Sequential } from '../../src/nn/index.js';
import { Adam } from '../../src/optim/adam.js';
import { Rng } from '../../src/tensor/rng.js';
import { BpLearner } from '../../src/train/bp_trainer.js';
import { runEpochs, type Learner } from '../../src/train/loop.js';

before(() => setBackend(nativeBackend));

function syntheticSplit(n: number, seed: number): Split {
  const rng = new Rng(seed);
  return {
    images: Float32Array.from({ length: n * 12 * 12 }, () => rng.normal()),
    labels: Int32Array.from({ length: n }, () => rng.int(10)),
    n, shape: [12, 12, 1], classes: 10,
  };
}

const data: Dataset = { train: syntheticSplit(96, 1), test: syntheticSplit(32, 2) };

async function trainBp(seed: number, threads: number): Promise<Float32Array[]> {
  nativeBackend.setNumThreads(threads);
  const rng = new Rng(seed);
  const model = new Sequential(
    new Conv2d(1, 8, 3, rng, { padding: 1 }), new BatchNorm(8), new Activation('relu'), new MaxPool2d(2),
    new BasicBlock(8, 16, 2, rng), new Flatten(), new Linear(3 * 3 * 16, 10, rng),
  );
  const learner: Learner = new BpLearner(model, new Adam(model.parameters(), { lr: 1e-2 }), () => 1e-2);
  await runEpochs(learner, data, { epochs: 2, batchSize: 16, rng });
  return [...model.parameters().map((p) => p.data), ...model.namedBuffers().map(([, b]) => b)];
}

async function trainAl(seed: number, threads: number): Promise<Float32Array[]> {
  nativeBackend.setNumThreads(threads);
  const rng = new Rng(seed);
  const net = buildAssociatedNet({ model: 'cnn', inputShape: [12, 12, 1], classes: 10, rng, tWidth: 16, lr: 1e-3 });
  await runEpochs(new ALLearner(net), data, { epochs: 2, batchSize: 16, rng });
  return net.namedParameters().map(([, p]) => p.data);
}

for (const threads of [1, 2]) {
  test(`BP: same seed and ${threads} thread(s) give bit-identical weights; another seed does not`, async () => {
    const a = await trainBp(7, threads), b = await trainBp(7, threads), c = await trainBp(8, threads);
    a.forEach((w, i) => assert.deepEqual(w, b[i], `tensor ${i}`));
    assert.notDeepEqual(a[0], c[0]);
  });

  test(`AL: same seed and ${threads} thread(s) give bit-identical weights`, async () => {
    const a = await trainAl(3, threads), b = await trainAl(3, threads);
    a.forEach((w, i) => assert.deepEqual(w, b[i], `tensor ${i}`));
  });
}
