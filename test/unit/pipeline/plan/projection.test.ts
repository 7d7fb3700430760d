// The linear partition against brute force, and the throughput projections against hand
// arithmetic and against the time-unit simulator (same costs, two independent derivations).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearPartition, projectAl, projectBp, projectGpipe, projectThroughput, type PhaseCost } from '../../../../src/pipeline/plan/projection.js';
import { simulate } from '../../../../src/pipeline/plan/simulator.js';
import { Rng } from '../../../../src/tensor/rng.js';

/** The smallest largest-group sum over every way to cut `costs` into `parts` contiguous groups. */
function bruteForce(costs: number[], parts: number): number {
  if (parts === 1) return costs.reduce((s, c) => s + c, 0);
  let best = Infinity;
  for (let first = 1; first <= costs.length - parts + 1; first++) {
    const head = costs.slice(0, first).reduce((s, c) => s + c, 0);
    best = Math.min(best, Math.max(head, bruteForce(costs.slice(first), parts - 1)));
  }
  return best;
}

test('linearPartition: the classic example and the shape of its answer', () => {
  const p = linearPartition([1, 2, 3, 4, 5, 6, 7, 8, 9], 3);
  assert.equal(p.max, 17);
  assert.deepEqual(p.sums.reduce((s, c) => s + c, 0), 45);
  assert.equal(p.ranges[0]![0], 0);
  assert.equal(p.ranges[2]![1], 9);
  for (let j = 1; j < 3; j++) assert.equal(p.ranges[j]![0], p.ranges[j - 1]![1]);
  assert.deepEqual(linearPartition([5], 1), { ranges: [[0, 1]], sums: [5], max: 5 });
  assert.deepEqual(linearPartition([1, 1, 1], 3).ranges, [[0, 1], [1, 2], [2, 3]]);
  assert.equal(linearPartition([100, 1, 1, 1, 1], 2).max, 100);
});

test('linearPartition is optimal: agrees with brute force on random costs', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(9);
    const costs = Array.from({ length: n }, () => rng.int(21) / 2);
    const parts = 1 + rng.int(n);
    const p = linearPartition(costs, parts);
    assert.equal(p.max, bruteForce(costs, parts), `costs ${costs} into ${parts}`);
    assert.equal(p.ranges.length, parts);
    p.ranges.forEach(([a, b], j) => {
      assert.ok(b > a, 'groups are non-empty');
      assert.equal(p.sums[j], costs.slice(a, b).reduce((s, c) => s + c, 0));
    });
  }
});

test('linearPartition refuses bad input, naming it', () => {
  assert.throws(() => linearPartition([1, 2], 3), /number of parts \(at most the 2 costs\) from 1 to 2, got 3/);
  assert.throws(() => linearPartition([1, 2], 0), /got 0/);
  assert.throws(() => linearPartition([], 1), /at least one cost/);
  assert.throws(() => linearPartition([1, -2], 1), /costs >= 0, got -2 at index 1/);
  assert.throws(() => linearPartition([1, Number.NaN], 1), /got NaN at index 1/);
});

test('BP: every layer in turn on one device', () => {
  const layers: PhaseCost[] = [{ forward: 2, backward: 4, update: 1 }, { forward: 3, backward: 5, update: 1 }];
  const p = projectBp(layers, 64);
  assert.equal(p.msPerBatch, 16);
  assert.equal(p.samplesPerSec, 64_000 / 16);
  assert.throws(() => projectBp([], 64), /at least one layer/);
  assert.throws(() => projectBp(layers, 0), /batch size from 1, got 0/);
});

test('GPipe by hand: flow-shop phases plus the flush', () => {
  // Cut by f + b + u = [7, 13, 7, 13] into two stages of 20. Micro-batch costs with M = 2:
  // forward 3 and 3 → 6 + 1·3 = 9; backward 6 and 6 → 12 + 1·6 = 18; flush max(2, 2) = 2.
  const layers: PhaseCost[] = [
    { forward: 2, backward: 4, update: 1 }, { forward: 4, backward: 8, update: 1 },
    { forward: 2, backward: 4, update: 1 }, { forward: 4, backward: 8, update: 1 },
  ];
  const p = projectGpipe(layers, { devices: 2, microBatches: 2, batchSize: 32 });
  assert.deepEqual(p.stages, [[0, 2], [2, 4]]);
  assert.equal(p.msPerBatch, 29);
  assert.equal(p.samplesPerSec, 32_000 / 29);
  assert.throws(() => projectGpipe(layers, { devices: 5, microBatches: 2, batchSize: 32 }), /devices \(at most the 4 layers\) from 1 to 4, got 5/);
});

test('GPipe and AL projections agree with the simulator on unit costs', () => {
  for (const layers of [1, 3, 4, 5, 8]) {
    for (let devices = 1; devices <= layers; devices++) {
      for (const m of [1, 2, 4]) {
        // A layer's forward on a micro-batch is one unit: M units per whole batch.
        const costs = Array.from({ length: layers }, () => ({ forward: m, backward: m, update: 1 }));
        const simulated = simulate({ schedule: 'gpipe', layers, stages: devices, microBatches: m, batches: 2 });
        assert.equal(projectGpipe(costs, { devices, microBatches: m, batchSize: 1 }).msPerBatch, simulated.unitsPerUpdate, `gpipe L=${layers} D=${devices} M=${m}`);
      }
      const al = projectAl(new Array<number>(layers).fill(1), { devices, batchSize: 1 });
      const simulated = simulate({ schedule: 'al', layers, stages: devices, batches: 3 });
      assert.equal(al.msPerBatch, simulated.unitsPerUpdate, `al L=${layers} D=${devices}`);
      assert.equal(al.fillMs, simulated.fillUnits);
    }
  }
  assert.equal(projectGpipe(Array.from({ length: 4 }, () => ({ forward: 4, backward: 4, update: 1 })), { devices: 4, microBatches: 4, batchSize: 1 }).msPerBatch, 15);
});

test('pipelined AL by hand, and the projection table', () => {
  const p = projectAl([4, 1, 1, 2, 2], { devices: 2, batchSize: 100 });
  assert.deepEqual(p.stages, [[0, 2], [2, 5]]);
  assert.equal(p.msPerBatch, 5);
  assert.equal(p.samplesPerSec, 20_000);
  assert.equal(p.fillMs, 5);
  const bpLayers = Array.from({ length: 4 }, () => ({ forward: 1, backward: 2, update: 0.5 }));
  const rows = projectThroughput({ bpLayers, alStepMs: [3, 3, 3, 3], devices: [1, 2, 4, 8], microBatches: 4, batchSize: 10 });
  assert.deepEqual(rows.map((r) => r.devices), [1, 2, 4, 8]);
  assert.ok(rows.every((r) => r.bp === 10_000 / 14));
  assert.equal(rows[2]!.al, 10_000 / 3);
  assert.equal(rows[3]!.al, undefined);
  assert.equal(rows[3]!.gpipe, undefined);
  // GPipe on 4 devices, M = 4: forward 7 × 0.25, backward 7 × 0.5, flush 0.5.
  assert.equal(rows[2]!.gpipe, 10_000 / (7 * 0.25 + 7 * 0.5 + 0.5));
});
