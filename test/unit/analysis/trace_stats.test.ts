// Trace statistics on a hand-made two-stage trace whose figures are worked out below: per-stage
// means without the warm-up step, utilisation over the whole span and inside the epochs, the
// per-layer step times of a grouped stage, the projection, the chart window, and the checks of
// parseTrace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartWindow, epochBatches, lastEpoch, layerStepMs, parseTrace, projectTimeline, simulatedSchedule, traceStats, type Trace } from '../../../src/analysis/trace_stats.js';
import { simulate } from '../../../src/pipeline/plan/simulator.js';

// Stage S1 runs AL layer 1, S2 layers 2 and 3. Epoch 1 = batches 0..2, a drain from 122 to 200 ms,
// epoch 2 = batches 3..4.
//   S1  [100,110] [110,112] [112,114]           [200,202] [202,204]    first 10, then 2 each: busy 18
//   S2            [110,114] [114,118] [118,122]  [202,206] [206,210]   4 each: busy 20
// span 110 ms; epoch 1 spans 22 ms (S1 busy 14, S2 12), epoch 2 spans 10 ms (S1 4, S2 8).
const step = (stage: number, batch: number, start: number, end: number) => ({ stage, batch, kind: 'step' as const, start, end });
const trace: Trace = {
  clock: 'ms since the coordinator started',
  stages: [{ stage: 0, layers: [1] }, { stage: 1, layers: [2, 3] }],
  intervals: [
    step(0, 0, 100, 110), step(0, 1, 110, 112), step(1, 0, 110, 114), step(0, 2, 112, 114), step(1, 1, 114, 118), step(1, 2, 118, 122),
    step(0, 3, 200, 202), step(0, 4, 202, 204), step(1, 3, 202, 206), step(1, 4, 206, 210),
  ],
};
// 25 samples in batches of 10 (the last one short), then 20
const records = [{ samplesPerSec: 25 / 0.5, seconds: 0.5 }, { samplesPerSec: 20 / 0.25, seconds: 0.25 }];

const close = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);

test('epochBatches: samples/s × seconds samples per epoch, in batches with a short last one', () => {
  assert.deepEqual(epochBatches(records, 10), [3, 2]);
  assert.deepEqual(epochBatches([{ samplesPerSec: 256 / 0.3, seconds: 0.3 }], 64), [4]);
});

test('traceStats: per-stage means without the warm-up step, busy time, utilisation and bubble', () => {
  const s = traceStats(trace, [3, 2]);
  assert.equal(s.batches, 5);
  assert.equal(s.spanMs, 110);
  assert.deepEqual(s.stages.map((x) => [x.intervals, x.firstStepMs, x.meanStepMs, x.busyMs]), [[5, 10, 2, 18], [5, 4, 4, 20]]);
  close(s.stages[0]!.utilisation, 18 / 110, 'S1 utilisation');
  close(s.stages[1]!.utilisation, 20 / 110, 'S2 utilisation');
  close(s.bubble, 1 - 38 / 220, 'bubble');
  assert.ok(s.inEpochs);
  close(s.inEpochs.spanMs, 32, 'in-epoch span 22 + 10');
  close(s.inEpochs.perStage[0]!, 18 / 32, 'S1 in epochs');
  close(s.inEpochs.perStage[1]!, 20 / 32, 'S2 in epochs');
  close(s.inEpochs.bubble, 1 - 38 / 64, 'bubble in epochs');
});

test('traceStats: no in-epoch figures without the epochs, or when their batches do not add up', () => {
  assert.equal(traceStats(trace).inEpochs, null);
  assert.equal(traceStats(trace, [3, 3]).inEpochs, null);
  const one = traceStats({ ...trace, intervals: [step(0, 0, 0, 5), step(1, 0, 5, 8)] });
  assert.deepEqual(one.stages.map((x) => x.meanStepMs), [5, 3], 'a single step is its own mean');
});

test('layerStepMs shares a stage among its layers; projectTimeline projects samples/s and compares the run', () => {
  const s = traceStats(trace, [3, 2]);
  assert.deepEqual(layerStepMs(s), [2, 2, 2]);
  const p = projectTimeline(s, { batchSize: 10, measuredSamplesPerSec: 2000 });
  assert.deepEqual(p.rows.map((r) => r.devices), [1, 2, 4, 8]);
  close(p.rows[0]!.msPerBatch!, 6, '1 device: every layer in turn');
  close(p.rows[0]!.samplesPerSec!, 10_000 / 6, '1 device samples/s');
  close(p.rows[1]!.msPerBatch!, 4, '2 devices: the slowest of [1 | 2, 3] or [1, 2 | 3]');
  close(p.rows[1]!.samplesPerSec!, 2500, '2 devices samples/s');
  assert.deepEqual(p.rows.slice(2).map((r) => r.samplesPerSec), [null, null], 'more devices than the 3 AL layers');
  assert.equal(p.measured.stages, 2);
  close(p.measured.projected, 2500, 'projection at the run\'s 2 stages');
  close(p.measured.deviation, -0.2, 'measured 2000 vs projected 2500');
});

test('chartWindow: the last epoch when the epochs are known, capped to whole batches', () => {
  const last = chartWindow(trace, 1000, [3, 2]);
  assert.deepEqual([last.epoch, last.firstBatch, last.batches, last.intervals.length], [2, 3, 2, 4]);
  const capped = chartWindow(trace, 3, [3, 2]);
  assert.deepEqual([capped.firstBatch, capped.batches, capped.intervals.map((i) => i.batch)], [3, 1, [3, 3]]);
  const whole = chartWindow(trace, 1000);
  assert.deepEqual([whole.epoch, whole.firstBatch, whole.batches, whole.intervals.length], [null, 0, 5, 10]);
  assert.equal(chartWindow(trace, 1000, [2, 2]).epoch, null, 'epochs that do not match the trace are ignored');
});

test('lastEpoch: the trace of the last epoch alone, or null when the epochs do not match the trace', () => {
  const last = lastEpoch(trace, [3, 2])!;
  assert.deepEqual([last.epoch, last.firstBatch, last.batches], [2, 3, 2]);
  assert.deepEqual(last.trace.intervals, trace.intervals.slice(6));
  assert.deepEqual(last.trace.stages, trace.stages);
  // S1 [200,202] (its first, left out of the mean) [202,204]; S2 [202,206] [206,210]
  assert.deepEqual(traceStats(last.trace).stages.map((s) => s.meanStepMs), [2, 4]);
  assert.equal(lastEpoch(trace, [5])!.firstBatch, 0, 'one epoch: the whole trace');
  assert.equal(lastEpoch(trace, [3, 1]), null);
  assert.equal(lastEpoch(trace), null);
});

test("simulatedSchedule: the slides' AL schedule for the run's layers and stages", () => {
  const sim = simulatedSchedule(trace, 4);
  assert.deepEqual(sim, simulate({ schedule: 'al', layers: 3, stages: 2, batches: 4 }));
  assert.equal(sim.stages, 2);
});

test('parseTrace: the trace al train writes round-trips; every malformed part is named', () => {
  assert.deepEqual(parseTrace(JSON.stringify(trace), 't.json'), trace);
  const bad = (value: unknown): string => {
    try {
      parseTrace(typeof value === 'string' ? value : JSON.stringify(value), 'run/trace.json');
    } catch (error) {
      return (error as Error).message;
    }
    return 'no error';
  };
  assert.match(bad('{"stages": ['), /^run\/trace\.json: not JSON/);
  assert.match(bad({ stages: [] }), /run\/trace\.json: expected an object with 'stages' and 'intervals' lists/);
  assert.match(bad({ stages: [], intervals: [] }), /'stages' is empty/);
  assert.match(bad({ ...trace, stages: [{ stage: 1, layers: [1] }] }), /stages\[0\]: expected \{stage: 0, layers/);
  assert.match(bad({ ...trace, stages: [{ stage: 0, layers: [1] }, { stage: 1, layers: [3] }] }), /AL layers 1\.\.2 in order, once each, got \[1,3\]/);
  assert.match(bad({ ...trace, intervals: [step(0, 0, 5, 4)] }), /intervals\[0\]: expected \{stage: 0\.\.1, batch >= 0, kind, start, end >= start\}/);
  assert.match(bad({ ...trace, intervals: [step(2, 0, 0, 1)] }), /intervals\[0\]/);
  assert.match(bad({ ...trace, intervals: [{ ...step(0, 0, 0, 1), kind: 'nap' }] }), /intervals\[0\]/);
  assert.match(bad({ ...trace, intervals: [] }), /no intervals recorded/);
});
