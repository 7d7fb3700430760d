// The text `al analyze` prints for the throughput projection and the per-layer losses: the
// measured figure compared with the projection in plain words, and the published per-layer losses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerLossText, projectionText } from '../../../src/cli/commands/analyze_text.js';
import type { TimelineProjection } from '../../../src/analysis/trace_stats.js';

function projection(stages: number, samplesPerSec: number, projected: number): TimelineProjection {
  return {
    batchSize: 128, layerStepMs: [10, 10, 10, 10],
    rows: [{ devices: 1, samplesPerSec: 3200, msPerBatch: 40 }, { devices: 2, samplesPerSec: 6400, msPerBatch: 20 }],
    measured: { stages, samplesPerSec, projected, deviation: samplesPerSec / projected - 1 },
  };
}

test('projectionText: the deviation from the projection, and whether it lies within ±15%', () => {
  const near = projectionText(projection(2, 5760, 6400), 'the last epoch').join('\n');
  assert.match(near, /vs projected for 2 devices: -10\.0% \(within ±15% of the projection\)/);
  const far = projectionText(projection(2, 8000, 6400), 'the last epoch').join('\n');
  assert.match(far, /vs projected for 2 devices: \+25\.0% \(outside ±15% of the projection\)/);
  // a stage count without a row of its own still gets the comparison
  const three = projectionText(projection(3, 7000, 8000), 'the last epoch').join('\n');
  assert.match(three, /this run: 3 stages, measured 7,000 samples\/s, projected 8,000/);
  assert.match(three, /vs projected for 3 devices: -12\.5% \(within ±15% of the projection\)/);
  for (const text of [near, far, three]) assert.doesNotMatch(text, /issue|bar\b/i);
});

test("layerLossText: the depth ratio beside the authors' slide, one column per network", () => {
  const loss = (associatedLoss: number) => ({ associatedLoss, autoencoderLoss: 1e-3 });
  const text = layerLossText({
    firstEpoch: 1, lastEpoch: 2, depthRatio: 100, depthOrders: 2,
    rows: [{ layer: 1, first: loss(1e-2), last: loss(1e-3) }, { layer: 2, first: loss(1e-3), last: loss(1e-5) }],
  }).join('\n');
  assert.match(text, /associated loss, layer 1 \/ layer 2 at epoch 2: 100× \(2\.0 orders of magnitude\)/);
  assert.match(text, /The authors' slide: associated loss per layer, MNIST after 200 epochs: one column per network/);
  assert.match(text, /^    1 +1\.249e-5 +1\.222e-5 +\?$/m);
  assert.match(text, /^    3 +— +— +6\.719e-10$/m);
});
