// The report's curves from steps.jsonl (al train --log-every): run directories whose steps.jsonl
// is written by the real StepLog from made-up batches, so the layout is the trainer's. Each AL
// layer's losses and a BP run's loss are drawn against the step, and test accuracy against the
// summed epoch times; long logs are thinned; runs without the file get none of these charts; a
// bad line is refused naming the file and line.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartLibrary } from '../../../src/report/chart_library.js';
import { MAX_STEP_POINTS, reportCharts, type ChartSpec } from '../../../src/report/charts.js';
import { buildReport } from '../../../src/report/report.js';
import { loadRun, loadRuns } from '../../../src/report/run_files.js';
import type { BatchProgress } from '../../../src/train/loop.js';
import { StepLog, type StepRecord } from '../../../src/train/step_log.js';
import { tempDir } from '../../util/temp_dir.js';

const base = tempDir('al-report-steps-');
const BATCHES = 4, BATCH = 8;

/** Batch b (0-based over the run) of layer k: associated loss 1/(b+1)/k, autoencoder 2/(b+1)/k. */
const layerLoss = (b: number, k: number): { associatedLoss: number; autoencoderLoss: number } => ({ associatedLoss: 1 / (b + 1) / k, autoencoderLoss: 2 / (b + 1) / k });

/** steps.jsonl as StepLog writes it for `epochs` epochs, a line every `every` steps; the clock advances 0.5 s a batch. */
function stepsText(epochs: number, every: number, layers: number): string {
  let text = '', now = 0;
  const log = new StepLog('unused', { every, samplesPerEpoch: BATCHES * BATCH, lrAt: () => 1e-3, clock: () => now, write: (line) => (text += line) });
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let batch = 1; batch <= BATCHES; batch++) {
      const b = epoch * BATCHES + batch - 1;
      now += 500;
      const layerLosses = layers === 0 ? undefined : Array.from({ length: layers }, (_, k) => layerLoss(b, k + 1));
      const p: BatchProgress = {
        epoch, batch, batches: BATCHES, samples: batch * BATCH, loss: 3 / (b + 1), accuracy: 0.5, seconds: 0.5 * batch,
        last: { size: BATCH, loss: 3 / (b + 1), correct: 4, layers: layerLosses },
      };
      log.add(p);
    }
  }
  return text;
}

function writeRun(name: string, method: string, epochs: number, steps: string | null): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: 'mlp', dataset: 'mnist', method, epochs, batch: BATCH }));
  const metrics = Array.from({ length: epochs }, (_, k) => JSON.stringify({ epoch: k + 1, trainLoss: 1, testAccuracy: 0.5 + 0.1 * k, samplesPerSec: 100, seconds: 1.5 + k }));
  writeFileSync(join(dir, 'metrics.jsonl'), metrics.join('\n') + '\n');
  if (steps !== null) writeFileSync(join(dir, 'steps.jsonl'), steps);
  return dir;
}

const alDir = writeRun('al', 'al', 2, stepsText(2, 1, 3));
const bpDir = writeRun('bp', 'bp', 2, stepsText(2, 2, 0));
const plainDir = writeRun('plain', 'bp', 2, null);
const runs = loadRuns([alDir, bpDir, plainDir]);
const charts = reportCharts(runs);
const byId = (id: string): ChartSpec => charts.find((c) => c.id === id) ?? assert.fail(`no chart ${id}`);

test('steps.jsonl is read when present, and only then', () => {
  assert.equal(runs[0]!.steps!.length, 8);
  assert.equal(runs[1]!.steps!.length, 4);
  assert.equal(runs[2]!.steps, null);
  assert.deepEqual(charts.filter((c) => c.id.startsWith('step-') || c.id === 'accuracy-time').map((c) => c.id), ['accuracy-time', 'step-loss-1', 'step-layer-losses-0']);
});

test("an AL run: each layer's two losses against the step, on a log axis", () => {
  const chart = byId('step-layer-losses-0');
  assert.equal(chart.section, 'layers');
  assert.ok(chart.y.log);
  assert.deepEqual(chart.series.map((s) => s.label), [1, 2, 3].flatMap((k) => [`layer ${k} associated`, `layer ${k} autoencoder`]));
  // a line every step: step s holds batch s - 1's losses
  for (let k = 1; k <= 3; k++) {
    const associated = chart.series[2 * (k - 1)]!, autoencoder = chart.series[2 * (k - 1) + 1]!;
    assert.deepEqual(associated.xy, Array.from({ length: 8 }, (_, b) => [b + 1, Number(layerLoss(b, k).associatedLoss.toPrecision(6))]).flat());
    assert.deepEqual(autoencoder.xy, Array.from({ length: 8 }, (_, b) => [b + 1, Number(layerLoss(b, k).autoencoderLoss.toPrecision(6))]).flat());
    assert.ok(autoencoder.dashed && !associated.dashed);
  }
});

test('a BP run: the training loss against the step, each point the mean over its steps', () => {
  const chart = byId('step-loss-1');
  assert.equal(chart.section, 'curves');
  // every 2 steps: the mean of 3/(b+1) over the two batches (equal sizes)
  const expected = [2, 4, 6, 8].flatMap((step) => [step, Number(((3 / (step - 1) + 3 / step) / 2).toPrecision(6))]);
  assert.deepEqual(chart.series[0]!.xy, expected);
});

test('test accuracy against training time: the epochs\' seconds summed, for the runs with steps.jsonl', () => {
  const chart = byId('accuracy-time');
  assert.deepEqual(chart.series.map((s) => s.label), ['al (al)', 'bp (bp)']);
  for (const s of chart.series) assert.deepEqual(s.xy, [1.5, 50, 4, 60]);
});

test(`a long log is thinned to at most ${MAX_STEP_POINTS} points, the last step kept`, () => {
  const dir = writeRun('long', 'al', 1, stepsText(1, 1, 1).trim().split('\n').concat(
    Array.from({ length: 4995 }, (_, i) => JSON.stringify({ step: 5 + i, epoch: 1, samples: 0, seconds: i, lr: 1e-3, loss: 1, samplesPerSec: 1, layers: [{ associatedLoss: 1, autoencoderLoss: 2 }] }))).join('\n') + '\n');
  const run = loadRun(dir);
  assert.equal(run.steps!.length, 4999);
  const [chart] = reportCharts([{ ...run, name: 'long' }]).filter((c) => c.id === 'step-layer-losses-0');
  const xy = chart!.series[0]!.xy!;
  assert.ok(xy.length / 2 <= MAX_STEP_POINTS, `${xy.length / 2} points`);
  assert.ok(xy.length / 2 > MAX_STEP_POINTS / 2, 'not thinned more than needed');
  assert.equal(xy[xy.length - 2], 4999, 'the last step is drawn');
});

test('the page holds the new charts; a bad steps.jsonl line is refused naming the file and line', () => {
  const page = buildReport(runs, { library: chartLibrary(), now: new Date(0) }).html;
  for (const id of ['accuracy-time', 'step-layer-losses-0', 'step-loss-1']) assert.ok(page.includes(`data-chart="${id}"`), id);
  const bad = writeRun('bad', 'al', 1, stepsText(1, 1, 2) + '{"step": 0, "epoch": 1}\n');
  assert.throws(() => loadRun(bad), /bad\/steps\.jsonl:5: expected \{step >= 1, epoch, seconds, loss, .*\} \(al train --log-every\), got \{"step": 0, "epoch": 1\}/);
  const notJson = writeRun('not-json', 'al', 1, 'nope\n');
  assert.throws(() => loadRun(notJson), /not-json\/steps\.jsonl:1: not JSON/);
  const record: StepRecord = JSON.parse(stepsText(1, 1, 1).split('\n')[0]!) as StepRecord;
  assert.equal(record.step, 1, 'the fixture is StepLog\'s own');
});
