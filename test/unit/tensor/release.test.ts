// releaseGraph: a finished graph's buffers go back to the free list, each once, leaves never; and
// BP steps that release their graphs (as bpStep does) train exactly like steps that do not, which
// they could not if a released buffer were still in use.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { buildModel } from '../../../src/models/index.js';
import { Adam } from '../../../src/optim/adam.js';
import { activation } from '../../../src/tensor/ops/activation.js';
import { meanSquaredError, softmaxCrossEntropy } from '../../../src/tensor/ops/loss.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor, gradBuffer, releaseGraph } from '../../../src/tensor/tensor.js';
import { bpStep } from '../../../src/train/bp_trainer.js';
import { randomTensor } from '../../util/gradcheck.js';

before(() => setBackend(referenceBackend));

test('releaseGraph hands every op output buffer out once, a reshaped view with it, never a leaf', () => {
  const rng = new Rng(3);
  // an odd length no other test uses, so the free list holds only this graph's buffers of it
  const x = randomTensor([7, 13], rng);
  const y = activation('elu', x);
  const z = activation('sigmoid', y.reshape([13, 7]));
  const loss = meanSquaredError(z, randomTensor([13, 7], rng, false));
  loss.backward();
  const outputs = new Set([y.storage.buffer, z.storage.buffer]);
  releaseGraph(loss);
  assert.equal(z.node, null);
  const handedOut = new Set<ArrayBufferLike>();
  for (let i = 0; i < 6; i++) {
    const b = gradBuffer(91);
    assert.ok(!handedOut.has(b.buffer), 'a buffer handed out twice');
    assert.notEqual(b.buffer, x.storage.buffer, 'a leaf was released');
    handedOut.add(b.buffer);
  }
  for (const b of outputs) assert.ok(handedOut.has(b), 'an op output was not released');
});

test('BP steps that release their graph train bit-identically to steps that keep it', () => {
  const run = (release: boolean): Float32Array[] => {
    const rng = new Rng(5);
    const model = buildModel('cnn', { inputShape: [8, 8, 1], classes: 10, rng });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    for (let step = 0; step < 3; step++) {
      const x = randomTensor([4, 8, 8, 1], rng, false);
      const labels = Int32Array.from({ length: 4 }, () => rng.int(10));
      if (release) {
        bpStep(model, optimizer, x, labels);
      } else {
        optimizer.zeroGrad();
        softmaxCrossEntropy(model.forward(x), labels).backward();
        optimizer.step();
      }
    }
    return model.parameters().map((p: Tensor) => p.data.slice());
  };
  const kept = run(false);
  const released = run(true);
  released.forEach((p, i) => assert.deepEqual(p, kept[i], `parameter ${i}`));
});
