// The pipeline bench on a small MLP: every method runs in every round, the medians are taken over
// the rounds, and each ratio of pipelined AL to a baseline is computed within a round before the
// median. Checks the figures' bookkeeping, not how fast anything is.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { pipelineBench, type PipelineWorkload } from '../../src/bench/pipeline.js';
import { median } from '../../src/bench/timing.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(1);
});

const small: PipelineWorkload = { name: 'small-mlp', model: 'mlp', inputShape: [8, 8, 1], alLayers: 4, tWidth: 16 };

test('pipeline bench: four methods a round, medians over the rounds, ratios within each round', async () => {
  const seen: string[] = [];
  const r = await pipelineBench(small, { batch: 16, batches: 8, cores: 2, microBatches: 2, rounds: 3, onRun: (run, round) => seen.push(`${round}:${run.method}:${run.threads}`) });
  assert.deepEqual(seen, [0, 1, 2].flatMap((k) => [`${k}:al:1`, `${k}:al:2`, `${k}:al-pipeline:1`, `${k}:gpipe-m2:1`]), 'every method once a round, in turn');
  assert.equal(r.rounds, 3);
  assert.deepEqual(r.runs.map((m) => [m.method, m.workers, m.threads]), [['al', 1, 1], ['al', 1, 2], ['al-pipeline', 2, 1], ['gpipe-m2', 2, 1]]);
  assert.equal(r.stages.flat().length, 4);
  for (const m of r.runs) {
    assert.equal(m.rounds.length, 3, m.method);
    assert.ok(m.rounds.every((x) => Number.isFinite(x) && x > 0), `${m.method}: ${m.rounds}`);
    assert.equal(m.samplesPerSec, median(m.rounds), m.method);
  }
  assert.equal(r.runs[2]!.utilisation!.length, 2, 'each stage\'s busy fraction');
  const [one, all, pipe, gpipe] = r.runs.map((m) => m.rounds);
  const within = (to: number[]): number[] => pipe!.map((p, i) => p / to[i]!);
  assert.deepEqual(r.ratios.vsOneThread.rounds, within(one!));
  assert.deepEqual(r.ratios.vsAllThreads.rounds, within(all!));
  assert.deepEqual(r.ratios.vsGpipe.rounds, within(gpipe!));
  assert.equal(r.ratios.vsOneThread.median, median(within(one!)));
  // two stages splitting AL's one-thread work evenly: twice its one-thread rate, against two threads
  assert.deepEqual(r.ratios.evenSplitVsAllThreads.rounds, one!.map((o, i) => (2 * o) / all![i]!));
  assert.equal(r.ratios.evenSplitVsAllThreads.median, median(r.ratios.evenSplitVsAllThreads.rounds));
  assert.ok(Number.isFinite(r.projectedAl) && r.projectedAl > 0);
});
