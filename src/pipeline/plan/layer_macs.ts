// The multiply-adds of each AL layer's local step, counted one layer at a time: the stage
// planner's cost model and a run's trainMacsPerSample. Building the layers one by one keeps the
// count from needing a second copy of the whole net, whose wide bridges would double a run's
// memory at start-up; counting rather than timing keeps it to one tiny step per layer.
import { oneHot } from '../../al/associated_net.js';
import { labelGroups } from '../../al/label_groups.js';
import { buildALLayers } from '../../al/decompositions.js';
import { backend, withBackend, withoutWeightDraws } from '../../backend/backend.js';
import { countingBackend } from '../../backend/counting.js';
import { randomSplit } from '../../data/synthetic.js';
import { Rng } from '../../tensor/rng.js';
import { Tensor } from '../../tensor/tensor.js';
import type { ALNetBlueprint } from '../runtime/messages.js';

/**
 * Multiply-adds per sample of each AL layer of the net `blueprint` describes: its training step
 * (forward and backward of f, b, g and h) and its decoder h applied once more, as the sequential
 * step does to decode the last bridge into class scores. Their sum is what trainMacsPerSample
 * counts for the whole net. Counted on a batch of the run's size (at least 2, so that batch norm
 * has statistics to take), because g and h run once per label present (label_groups.ts): their
 * share of a sample's cost is the labels present over the batch size.
 */
export function alLayerMacs(blueprint: ALNetBlueprint, batch = 2): number[] {
  if (!Number.isInteger(batch) || batch < 2) throw new RangeError(`alLayerMacs: expected a batch of at least 2, got ${batch}`);
  const inputShape = blueprint.inputShape as [number, number, number];
  const data = randomSplit(batch, inputShape, blueprint.classes, 1);
  // every class as often as the batch allows, as a shuffled batch of a balanced set has them
  const labels = Int32Array.from({ length: batch }, (_, i) => i % blueprint.classes);
  const groups = labelGroups(labels);
  let s = new Tensor(data.images, [batch, ...inputShape]);
  let t = oneHot(labels, blueprint.classes);
  const counting = countingBackend(backend(), { dry: true });
  const macs: number[] = [];
  for (let i = 0; ; i++) {
    // the weights' values change no count: built without drawing them, the layers cost next to nothing
    const [layer] = withoutWeightDraws(() => buildALLayers({ ...blueprint, rng: new Rng(0) }, [i]));
    if (!layer) return macs;
    counting.reset();
    ({ s, t } = withBackend(counting.backend, () => {
      const out = layer.trainStep(s, t, groups);
      layer.decode(out.t);
      return out;
    }));
    macs.push(counting.macs() / batch);
  }
}
