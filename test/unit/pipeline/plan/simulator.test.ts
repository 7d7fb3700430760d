// The time-unit schedules of the authors' slides: its numbers (BP 2(ℓ+1) per update, naive one update per
// unit from 2(ℓ+1) on with stale weights, GPipe 15 instead of 36, AL one update per unit after
// the fill with exact weights) and invariants every schedule must keep.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_INTERVALS, simulate, type Interval, type Schedule, type SimulateOptions } from '../../../../src/pipeline/plan/simulator.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** No stage runs two intervals at once. */
function assertNoOverlap(s: Schedule): void {
  for (let stage = 0; stage < s.stages; stage++) {
    const list = s.intervals.filter((i) => i.stage === stage).sort((a, b) => a.start - b.start);
    for (let k = 1; k < list.length; k++) {
      assert.ok(list[k - 1]!.end <= list[k]!.start, `${s.schedule}: stage ${stage} overlaps at ${list[k]!.start}`);
    }
  }
}

function find(s: Schedule, match: Partial<Interval>): Interval {
  const hits = s.intervals.filter((i) => Object.entries(match).every(([k, v]) => i[k as keyof Interval] === v));
  assert.equal(hits.length, 1, `${s.schedule}: expected one interval ${JSON.stringify(match)}, got ${hits.length}`);
  return hits[0]!;
}

function assertTotals(s: Schedule): void {
  assert.equal(s.totalUnits, Math.max(...s.intervals.map((i) => i.end)));
  assert.equal(s.workUnits, s.intervals.reduce((sum, i) => sum + i.end - i.start, 0));
  for (const i of s.intervals) assert.ok(i.start >= 0 && i.end > i.start && Number.isInteger(i.start), JSON.stringify(i));
}

test('BP: 2(ℓ+1) units per update, nothing overlaps, exact weights', () => {
  for (const hidden of [1, 2, 3, 6]) {
    for (const batches of [1, 3]) {
      const s = simulate({ schedule: 'bp', layers: hidden, batches });
      const perUpdate = 2 * (hidden + 1);
      assert.equal(s.stages, hidden + 1);
      assert.equal(s.unitsPerUpdate, perUpdate);
      assert.deepEqual(s.updateEnds, range(batches).map((b) => perUpdate * (b + 1)));
      assert.equal(s.totalUnits, perUpdate * batches);
      assert.equal(s.workUnits, s.totalUnits, 'no two intervals overlap in time, on any stage');
      assert.equal(s.fillUnits, 0);
      assert.equal(s.stale, false);
      assert.ok(s.reads.every((r) => r.version === r.batch), 'batch b reads every layer after exactly b updates');
      // The chain: forward up the layers, then backward down them, then the next batch.
      const ordered = [...s.intervals].sort((a, b) => a.start - b.start);
      ordered.forEach((i, k) => assert.equal(i.start, k));
      assertTotals(s);
    }
  }
  assert.deepEqual(simulate({ schedule: 'bp', layers: 2, batches: 1 }).stageLabels, ['f1', 'f2', 'f3']);
});

test('naive pipelining: one update per unit from unit 2(ℓ+1) on, with stale weights', () => {
  for (const hidden of [1, 2, 4]) {
    const depth = 2 * (hidden + 1);
    const batches = 2 * depth;
    const s = simulate({ schedule: 'naive', layers: hidden, batches });
    assert.equal(s.firstUpdate, depth);
    assert.deepEqual(s.updateEnds, range(batches).map((b) => depth + b));
    assert.equal(s.unitsPerUpdate, 1);
    assert.equal(s.fillUnits, depth - 1);
    // A new batch enters every unit; in unit t the step s works on batch t − s.
    for (const i of s.intervals) assert.equal(i.start, i.batch + i.stage);
    assert.equal(s.stale, true);
    // Layer 1's update meets the updates of the 2ℓ + 1 batches that finished since its forward
    // (once that many batches have gone before it).
    assert.equal(s.maxStaleness, 2 * hidden + 1);
    assert.equal(simulate({ schedule: 'naive', layers: hidden, batches: 2 }).maxStaleness, 1);
    assertNoOverlap(s);
    assertTotals(s);
  }
});

test('naive pipelining reproduces the slides\' table: which weights each batch reads', () => {
  // The slides' table (two hidden layers): x^(3) reads f3^(1), x^(4) reads f3^(2), x^(5) reads
  // f2^(1) and f3^(3); everything else f^(0).
  const s = simulate({ schedule: 'naive', layers: 2, batches: 5 });
  assert.deepEqual(s.stageLabels, ['f1', 'f2', 'f3', '∂f3', '∂f2', '∂f1']);
  const table = range(5).map((b) => range(3).map((layer) => s.reads.find((r) => r.batch === b && r.params === layer)!.version));
  assert.deepEqual(table, [[0, 0, 0], [0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 3]]);
  // t = 4 (the interval [3, 4)): batch 1 computes ∂L/∂θ_f3 while batch 2 runs f3 forward.
  assert.equal(find(s, { batch: 0, stage: 3 }).start, 3);
  assert.equal(find(s, { batch: 1, stage: 2 }).start, 3);
});

test('GPipe with 4 devices and 4 micro-batches: 15 units instead of 36', () => {
  const s = simulate({ schedule: 'gpipe', layers: 4, stages: 4, microBatches: 4, batches: 1 });
  assert.equal(s.totalUnits, 15);
  // Without pipelining the same work runs one unit at a time: 16 forwards + 16 backwards + 4 updates.
  assert.equal(s.workUnits, 36);
  assert.equal(s.intervals.length, 36);
  assert.equal(s.stale, false);
  // Forward (M + K − 1 = 7 units), backward (7, last micro-batch first), the flush (1).
  assert.equal(find(s, { stage: 3, micro: 3, kind: 'forward' }).end, 7);
  assert.equal(find(s, { stage: 3, micro: 3, kind: 'backward' }).start, 7);
  assert.equal(find(s, { stage: 0, micro: 0, kind: 'backward' }).end, 14);
  for (const stage of range(4)) assert.deepEqual([find(s, { stage, kind: 'update' }).start, find(s, { stage, kind: 'update' }).end], [14, 15]);
  assertNoOverlap(s);
});

test('GPipe in general: 2(M + K − 1) + 1 units per mini-batch, K(2M + 1) of work, exact weights', () => {
  for (const k of [1, 2, 3, 5]) {
    for (const m of [1, 2, 4, 7]) {
      const s = simulate({ schedule: 'gpipe', layers: k, microBatches: m, batches: 3 });
      assert.equal(s.unitsPerUpdate, 2 * (m + k - 1) + 1, `K=${k} M=${m}`);
      assert.deepEqual(s.updateEnds, [1, 2, 3].map((n) => n * (2 * (m + k - 1) + 1)));
      assert.equal(s.workUnits, 3 * k * (2 * m + 1));
      assert.equal(s.stale, false);
      assert.ok(s.reads.every((r) => r.version === r.batch), 'every micro-batch of mini-batch n reads the weights after n flushes');
      assertNoOverlap(s);
      assertTotals(s);
      for (let n = 0; n < 3; n++) {
        for (let mb = 0; mb < m; mb++) {
          for (let stage = 1; stage < k; stage++) {
            assert.ok(find(s, { batch: n, micro: mb, stage, kind: 'forward' }).start >= find(s, { batch: n, micro: mb, stage: stage - 1, kind: 'forward' }).end);
            assert.ok(find(s, { batch: n, micro: mb, stage: stage - 1, kind: 'backward' }).start >= find(s, { batch: n, micro: mb, stage, kind: 'backward' }).end);
          }
          assert.ok(find(s, { batch: n, micro: mb, stage: k - 1, kind: 'backward' }).start >= find(s, { batch: n, micro: mb, stage: k - 1, kind: 'forward' }).end);
        }
        const lastBackward = Math.max(...s.intervals.filter((i) => i.batch === n && i.kind === 'backward').map((i) => i.end));
        for (const stage of range(k)) assert.equal(find(s, { batch: n, stage, kind: 'update' }).start, lastBackward, 'the flush waits for every backward');
        if (n > 0) assert.ok(find(s, { batch: n, micro: 0, stage: 0, kind: 'forward' }).start >= s.updateEnds[n - 1]!);
      }
    }
  }
  // More layers than stages: 5 layers on 2 stages hold 2 and 3 layers; a micro-batch takes a unit per layer.
  const uneven = simulate({ schedule: 'gpipe', layers: 5, stages: 2, microBatches: 3, batches: 2 });
  assert.deepEqual(uneven.stageLabels, ['S1 (layers 1-2)', 'S2 (layers 3-5)']);
  assert.equal(uneven.unitsPerUpdate, (2 + 3) + 2 * 3 + (2 + 3) + 2 * 3 + 3);
  assertNoOverlap(uneven);
});

test('AL: one full update per unit after a fill of L − 1 units, exact weights', () => {
  for (const layers of [1, 2, 4, 7]) {
    const batches = 10;
    const s = simulate({ schedule: 'al', layers, batches });
    assert.equal(s.fillUnits, layers - 1);
    assert.equal(s.firstUpdate, layers);
    assert.equal(s.unitsPerUpdate, 1);
    assert.deepEqual(s.updateEnds, range(batches).map((b) => layers + b));
    assert.equal(s.totalUnits, layers + batches - 1);
    assert.equal(s.stale, false);
    // Stage i works on batch m while stage i + 1 works on m − 1.
    for (const i of s.intervals) assert.equal(i.start, i.batch + i.stage);
    // Exactly the weights sequential AL would use: batch b meets every layer after b updates.
    assert.ok(s.reads.every((r) => r.version === r.batch));
    assertNoOverlap(s);
    assertTotals(s);
  }
});

test('AL on fewer stages than layers: a batch per largest-group units', () => {
  const s = simulate({ schedule: 'al', layers: 5, stages: 2, batches: 6 });
  assert.deepEqual(s.stageLabels, ['S1 (AL 1-2)', 'S2 (AL 3-5)']);
  assert.equal(s.unitsPerUpdate, 3);
  assert.equal(s.firstUpdate, 5);
  assert.equal(s.totalUnits, 5 + 5 * 3);
  assert.equal(s.stale, false);
  assertNoOverlap(s);
  // Within a batch, layer l + 1 starts after layer l, across stages too.
  for (let b = 0; b < 6; b++) {
    const steps = s.intervals.filter((i) => i.batch === b);
    for (let k = 1; k < steps.length; k++) assert.ok(steps[k]!.start >= steps[k - 1]!.end);
  }
});

test('bad sizes are refused with the option named', () => {
  const bad = (options: SimulateOptions, message: RegExp): void => assert.throws(() => simulate(options), (e: unknown) => e instanceof RangeError && message.test(e.message));
  bad({ schedule: 'bp', layers: 0 }, /layers to be an integer >= 1, got 0/);
  bad({ schedule: 'al', layers: 3, batches: 1.5 }, /batches to be an integer >= 1, got 1.5/);
  bad({ schedule: 'bp', layers: 3, stages: 2 }, /bp uses one device per layer; stages apply to gpipe and al only/);
  bad({ schedule: 'al', layers: 3, microBatches: 2 }, /micro-batches apply to gpipe only/);
  bad({ schedule: 'gpipe', layers: 3, stages: 4 }, /at most 3 stages for 3 layers, got 4/);
  bad({ schedule: 'pipedream' as never, layers: 3 }, /schedule among bp, naive, gpipe, al, got 'pipedream'/);
  bad({ schedule: 'gpipe', layers: 100, microBatches: 100, batches: 100 }, new RegExp(`2010000 intervals is more than the ${MAX_INTERVALS}`));
});

test('measured costs: AL steps take their cost, stages are cut by cost, the slowest stage sets the pace', () => {
  // layers of cost 1, 1, 4 on 2 stages: cut [1,2] | [3], a batch per 4 ms once full, as projectAl says
  const costs = [1, 1, 4].map((ms) => ({ forward: ms, backward: 0, update: 0 }));
  const s = simulate({ schedule: 'al', layers: 3, stages: 2, batches: 5, costs });
  assertNoOverlap(s);
  assert.deepEqual(s.stageLabels, ['S1 (AL 1-2)', 'S2 (AL 3)']);
  assert.equal(s.unitsPerUpdate, 4);
  assert.equal(s.firstUpdate, 6);
  assert.equal(s.totalUnits, 2 + 5 * 4);
  assert.equal(s.workUnits, 5 * 6);
  assert.equal(s.stale, false);
  // with unit costs the same layers are cut 2 | 1 by count and run one batch per 2 units
  assert.equal(simulate({ schedule: 'al', layers: 3, stages: 2, batches: 5 }).unitsPerUpdate, 2);
});

test('measured costs: BP runs forward then backward + update of each layer; GPipe splits micro-batches', () => {
  const costs = [{ forward: 1, backward: 2, update: 0.5 }, { forward: 3, backward: 6, update: 1 }];
  const bp = simulate({ schedule: 'bp', layers: 1, batches: 2, costs });
  assert.equal(bp.unitsPerUpdate, 1 + 3 + 7 + 2.5);
  const naive = simulate({ schedule: 'naive', layers: 1, batches: 6, costs });
  assert.equal(naive.unitsPerUpdate, 7, 'the slowest pass, ∂f2 (backward 6 + update 1), sets the pace');
  const gpipe = simulate({ schedule: 'gpipe', layers: 2, stages: 2, microBatches: 2, batches: 1, costs });
  assertNoOverlap(gpipe);
  // forwards 0.5, 1.5 per micro-batch; backwards 1, 3; the flush 0.5 | 1, in parallel
  // forward: 0.5 + 1.5 + 1.5 = 3.5; backward starts after the last forward: 3 + 3 + 1 = 7 more; flush 1
  assert.equal(gpipe.totalUnits, 3.5 + 7 + 1);
});

test('measured costs are checked: one per layer (plus the output layer for bp), finite and >= 0', () => {
  const one = { forward: 1, backward: 1, update: 0 };
  assert.throws(() => simulate({ schedule: 'al', layers: 3, costs: [one, one] }), /expected 3 layer costs, got 2/);
  assert.throws(() => simulate({ schedule: 'bp', layers: 2, costs: [one, one] }), /expected 3 layer costs, got 2/);
  assert.throws(() => simulate({ schedule: 'al', layers: 1, costs: [{ forward: NaN, backward: 0, update: 0 }] }), /finite forward cost >= 0 for layer 0, got NaN/);
});
