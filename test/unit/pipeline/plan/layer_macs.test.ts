// The per-layer count is the stage planner's cost model and, summed, a run's trainMacsPerSample:
// it must add up to what one sequential step of the whole net counts, and follow the layers' sizes.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALLearner } from '../../../../src/al/al_learner.js';
import { buildAssociatedNet } from '../../../../src/al/decompositions.js';
import { setBackend } from '../../../../src/backend/backend.js';
import { referenceBackend } from '../../../../src/backend/reference_backend.js';
import { alLayerMacs } from '../../../../src/pipeline/plan/layer_macs.js';
import type { ALNetBlueprint } from '../../../../src/pipeline/runtime/messages.js';
import { Rng } from '../../../../src/tensor/rng.js';
import { trainMacsPerSample } from '../../../../src/train/macs.js';

before(() => setBackend(referenceBackend));

const wholeNet = (blueprint: ALNetBlueprint, batch = 2): number =>
  trainMacsPerSample(new ALLearner(buildAssociatedNet({ ...blueprint, rng: new Rng(3) })), blueprint.inputShape, blueprint.classes, batch);

for (const blueprint of [
  { model: 'mlp', inputShape: [6, 6, 1], classes: 4, layers: 3, tWidth: 8, lr: 1e-3 },
  { model: 'mlp', inputShape: [6, 6, 1], classes: 4, layers: 2, tWidth: 8, lr: 1e-3, bridge: 'lean' },
  { model: 'cnn', inputShape: [8, 8, 1], classes: 3, layers: 2, tWidth: 8, lr: 1e-3 },
] satisfies ALNetBlueprint[]) {
  test(`alLayerMacs: one count per layer, summing to a whole step's (${blueprint.model}, ${blueprint.layers} layers, ${blueprint.bridge ?? 'wide'})`, () => {
    const perLayer = alLayerMacs(blueprint);
    assert.equal(perLayer.length, blueprint.layers);
    assert.ok(perLayer.every((m) => m > 0), `${perLayer}`);
    assert.equal(perLayer.reduce((a, b) => a + b, 0), wholeNet(blueprint));
    // on a batch holding each class twice, g and h run on half the rows: the per-layer count, taken
    // from steps on 2 samples, matches a real step of the whole net on that batch
    const batch = 2 * blueprint.classes;
    const grouped = alLayerMacs(blueprint, batch).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(grouped - wholeNet(blueprint, batch)) < 1e-6 * grouped, `${grouped} vs ${wholeNet(blueprint, batch)}`);
    assert.ok(grouped < perLayer.reduce((a, b) => a + b, 0), 'g and h cost less a sample when labels repeat');
  });
}

test('alLayerMacs: the first MLP layer, which reads the image, costs most; a lean bridge costs less than a slim one, a slim one less than a wide one', () => {
  const base = { model: 'mlp', inputShape: [12, 12, 1], classes: 4, layers: 3, tWidth: 8, lr: 1e-3 } satisfies ALNetBlueprint;
  const wide = alLayerMacs(base), slim = alLayerMacs({ ...base, bridge: 'slim' }), lean = alLayerMacs({ ...base, bridge: 'lean' });
  assert.ok(wide[0]! > wide[1]!, `${wide}`);
  wide.forEach((m, i) => assert.ok(lean[i]! < slim[i]! && slim[i]! < m, `layer ${i + 1}: lean ${lean[i]}, slim ${slim[i]}, wide ${m}`));
});
