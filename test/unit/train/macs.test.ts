// trainMacsPerSample against multiply-adds counted by hand: a dense and a convolutional BP network
// (forward; weight gradients; input gradients everywhere but the network's input) and a one-layer
// AL net, whose two losses each train their own pair of maps and stop at detached inputs.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALLayer } from '../../../src/al/al_layer.js';
import { ALLearner } from '../../../src/al/al_learner.js';
import { AssociatedNet } from '../../../src/al/associated_net.js';
import { backend, setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { Activation, Conv2d, Flatten, Linear, Sequential } from '../../../src/nn/index.js';
import { Adam } from '../../../src/optim/adam.js';
import { Rng } from '../../../src/tensor/rng.js';
import { BpLearner } from '../../../src/train/bp_trainer.js';
import { trainMacsPerSample } from '../../../src/train/macs.js';

before(() => setBackend(referenceBackend));

const bp = (model: Sequential): BpLearner => new BpLearner(model, new Adam(model.parameters(), { lr: 1e-3 }), () => 1e-3);

test('dense BP 6 -> 5 -> 3: forward 45, weight gradients 45, the input gradient of the second layer 15', () => {
  const rng = new Rng(1);
  const model = new Sequential(new Flatten(), new Linear(6, 5, rng), new Activation('elu'), new Linear(5, 3, rng));
  assert.equal(trainMacsPerSample(bp(model), [1, 1, 6], 3), 105);
  assert.equal(backend(), referenceBackend, 'the backend is put back');
});

test('convolutional BP: conv 3x3 1 -> 4 channels on 6x6 (1296 a pass), dense 144 -> 3 (432 a pass)', () => {
  const rng = new Rng(1);
  const model = new Sequential(new Conv2d(1, 4, 3, rng, { padding: 1 }), new Activation('relu'), new Flatten(), new Linear(144, 3, rng));
  // forward both, weight gradients both, input gradient of the dense layer only
  assert.equal(trainMacsPerSample(bp(model), [6, 6, 1], 3, 4), 2 * 1296 + 3 * 432);
});

test('one AL layer: f 6 -> 5, b 5 -> 4, g 3 -> 4, h 4 -> 3', () => {
  const rng = new Rng(1);
  const layer = new ALLayer(1, {
    f: new Sequential(new Flatten(), new Linear(6, 5, rng)), b: new Linear(5, 4, rng), g: new Linear(3, 4, rng), h: new Linear(4, 3, rng),
  }, { lr: 1e-3, targetLr: 1e-3, weightDecay: 0, milestones: [] });
  const forward = 30 + 20 + 12 + 12;
  // associated loss: b's weights and input, f's weights; autoencoder loss: h's weights and input, g's weights
  const backward = 20 + 20 + 30 + 12 + 12 + 12;
  const macs = trainMacsPerSample(new ALLearner(new AssociatedNet([layer], 3)), [1, 1, 6], 3);
  // the step also predicts its batch for the training accuracy: h_1(b_1(s_1)) once more
  assert.equal(macs, forward + backward + 12);
  // on a batch of 6 with each of the 3 labels twice, g and h run on one row per label: half their cost a sample
  const grouped = trainMacsPerSample(new ALLearner(new AssociatedNet([layer], 3)), [1, 1, 6], 3, 6);
  assert.equal(grouped, 30 + 20 + (12 + 12) / 2 + 20 + 20 + 30 + (12 + 12 + 12) / 2 + 12);
});
