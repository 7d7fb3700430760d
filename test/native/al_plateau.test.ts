// The first steps of AL on MNIST: our recipe learns from the start, the authors' sits at chance.
// With sigmoid codes every class's t_i starts near 0.5 and Adam's first steps move them together,
// so b_L has nothing to tell classes apart by; tanh codes, near-identity square code maps and g, h
// at lr/2 keep the classes' codes apart (src/al/codes.ts). 40 steps of batch 64, 2 AL layers of the default width 1024.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALLearner } from '../../src/al/al_learner.js';
import { buildAssociatedNet } from '../../src/al/decompositions.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { classCodes, codeSpread } from '../../src/analysis/layer_codes.js';
import { BatchIterator } from '../../src/data/batches.js';
import { loadMnist } from '../../src/data/mnist.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(2);
});

const data = loadMnist({ limit: 2560 });
const test1000 = { ...data.test, n: 1000, images: data.test.images.subarray(0, 1000 * 784), labels: data.test.labels.subarray(0, 1000) };

function firstSteps(authors: boolean): { accuracy: number; spreads: number[] } {
  const rng = new Rng(1);
  const net = buildAssociatedNet({ model: 'mlp', inputShape: data.train.shape, classes: 10, rng, layers: 2, lr: 1e-3, ...(authors ? { variant: 'authors' as const } : {}) });
  const learner = new ALLearner(net);
  learner.setEpoch(0, 1);
  for (const { x, labels, size } of new BatchIterator(data.train, 64, rng, { shuffle: true, dropLast: true }).epoch()) {
    learner.step(new Tensor(x, [size, ...data.train.shape]), labels);
  }
  const spreads = classCodes(net).map((codes) => codeSpread(codes, 10, codes.length / 10));
  return { accuracy: learner.testAccuracy(test1000), spreads };
}

test('after 40 steps our recipe predicts most test digits, the authors\' recipe is near chance', () => {
  const ours = firstSteps(false), theirs = firstSteps(true);
  assert.ok(ours.accuracy > 0.75, `ours: ${ours.accuracy}`);
  assert.ok(theirs.accuracy < 0.3, `the authors': ${theirs.accuracy}`);
  // the mechanism: the authors' layer-2 codes have collapsed onto each other, ours have not
  assert.ok(ours.spreads[1]! > 20 * theirs.spreads[1]!, `spreads ${ours.spreads} against ${theirs.spreads}`);
});
