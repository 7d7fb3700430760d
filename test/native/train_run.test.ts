// train(config) as a library call: a fresh run writes its directory and returns the epochs'
// metrics, hooks see every step and epoch, a resumed run continues as if never stopped, an abort
// stops between batches, and a directory holding a run is refused.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { RunConfigError } from '../../src/run/errors.js';
import { readTrainConfig, trainConfig, type TrainConfig } from '../../src/run/train_config.js';
import { train } from '../../src/run/train_run.js';
import { blobs, writeNpyBlobs } from '../util/npy_files.js';
import { tempDir } from '../util/temp_dir.js';

const base = tempDir('al-train-run-');
const dataDir = join(base, 'data');
writeNpyBlobs(dataDir, blobs(64, 8, 3, 1), blobs(32, 8, 3, 2));
const config = (out: string, settings: Partial<TrainConfig> = {}): TrainConfig =>
  trainConfig({ dataset: 'npy', dataDir, batch: 32, epochs: 2, threads: 1, schedule: 'constant', out: join(base, out), ...settings });
const metricsLines = (dir: string): { epoch: number; trainLoss: number }[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; trainLoss: number });

before(() => setBackend(nativeBackend));

test('a fresh run writes config.json, metrics and a checkpoint, and returns the metrics; hooks see every step and epoch', async () => {
  const steps: number[] = [], epochs: number[] = [], log: string[] = [];
  const result = await train(config('fresh'), { onStep: (p) => steps.push(p.batch), onEpoch: (m) => epochs.push(m.epoch), log: (line) => log.push(line) });
  assert.deepEqual(steps, [1, 2, 1, 2]);
  assert.deepEqual(epochs, [1, 2]);
  assert.deepEqual(result.history.map((m) => m.epoch), [1, 2]);
  assert.equal(result.runDir, join(base, 'fresh'));
  assert.deepEqual([result.startEpoch, result.stopped], [0, false]);
  assert.ok(result.trainMacsPerSample > 0);
  assert.deepEqual(metricsLines(result.runDir).map((m) => m.trainLoss), result.history.map((m) => m.trainLoss));
  assert.equal(readTrainConfig(result.runDir).method, 'bp');
  assert.ok(existsSync(join(result.runDir, 'checkpoint.json')));
  assert.ok(log.includes(`run directory: ${result.runDir}`), log.join('\n'));
});

test('config.resume continues from the last finished epoch, as a run that was never stopped', async () => {
  const whole = await train(config('whole', { epochs: 3 }));
  const first = await train(config('parts'));
  const saved = readTrainConfig(first.runDir);
  const rest = await train({ ...saved, epochs: 3, resume: first.runDir });
  assert.equal(rest.startEpoch, 2);
  assert.deepEqual(rest.history.map((m) => m.epoch), [3]);
  assert.equal(rest.history[0]!.trainLoss, whole.history[2]!.trainLoss);
  assert.deepEqual(metricsLines(first.runDir).map((m) => m.trainLoss), metricsLines(whole.runDir).map((m) => m.trainLoss));
});

test('an aborted signal stops the run after the current batch; the unfinished epoch is not saved', async () => {
  const stop = new AbortController();
  const result = await train(config('stopped'), { signal: stop.signal, onStep: () => stop.abort() });
  assert.deepEqual([result.history.length, result.stopped], [0, true]);
  assert.ok(!existsSync(join(result.runDir, 'checkpoint.json')));
});

test('a directory that holds a run is refused, naming it, and left as it was', async () => {
  const out = join(base, 'fresh');
  const before = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  await assert.rejects(train(config('fresh')), (e: unknown) => e instanceof RunConfigError &&
    e.message === `--out ${out}: already holds a run (config.json); continue it with --resume ${out} or choose another directory`);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), before);
});
