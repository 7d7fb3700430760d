// The multiply-adds of each AL layer's local step, counted one layer at a time: the stage
// planner's cost model and a run's trainMacsPerSample. Building the layers one by one keeps the
// count from needing a second copy of the whole net, whose wide bridges would double a run's
// memory at start-up; counting rather than timing keeps it to one tiny step per layer.
import { oneHot } from '../../al/associated_net.js';
import { labelGroups, type LabelGroups } from '../../al/label_groups.js';
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
 * counts for the whole net on a batch of `batch` with every class in it (labels i mod classes).
 *
 * g and h run once per label present (label_groups.ts), so a layer costs F a sample plus G per
 * label present: two steps on a batch of 2 (batch norm needs 2 to take statistics), with two
 * labels and with one, tell F and G apart, and a batch of the run's size need not be stepped
 * (whose activations would make a large net's start-up seconds longer).
 */
export function alLayerMacs(blueprint: ALNetBlueprint, batch = 2): number[] {
  if (!Number.isInteger(batch) || batch < 2) throw new RangeError(`alLayerMacs: expected a batch of at least 2, got ${batch}`);
  const inputShape = blueprint.inputShape as [number, number, number];
  const data = randomSplit(2, inputShape, blueprint.classes, 1);
  const labels = Int32Array.of(0, 1 % blueprint.classes);
  const [two, one] = [labelGroups(labels), labelGroups(Int32Array.of(0, 0))];
  const present = Math.min(blueprint.classes, batch);
  let s = new Tensor(data.images, [2, ...inputShape]);
  let t = oneHot(labels, blueprint.classes);
  const counting = countingBackend(backend(), { dry: true });
  const macs: number[] = [];
  for (let i = 0; ; i++) {
    // the weights' values change no count: built without drawing them, the layers cost next to nothing
    const [layer] = withoutWeightDraws(() => buildALLayers({ ...blueprint, rng: new Rng(0) }, [i]));
    if (!layer) return macs;
    const count = (groups: LabelGroups): { macs: number; out: { s: Tensor; t: Tensor } } => {
      counting.reset();
      const out = withBackend(counting.backend, () => {
        const step = layer.trainStep(s, t, groups);
        layer.decode(step.t);
        return step;
      });
      return { macs: counting.macs(), out };
    };
    const once = count(one).macs;
    const both = count(two);
    // both = 2F + 2G, once = 2F + G (G = 0 where g and h are not grouped)
    const perLabel = both.macs - once;
    const perSample = (once - perLabel) / 2;
    macs.push(perSample + (perLabel * present) / batch);
    ({ s, t } = both.out);
  }
}
