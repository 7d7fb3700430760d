import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchProgress, BatchResult } from '../../../src/train/loop.js';
import { StepLog, type StepRecord } from '../../../src/train/step_log.js';
import { tempDir } from '../../util/temp_dir.js';

/** The BatchProgress of batch `batch` (1-based) of `epoch` (0-based), 3 batches an epoch, the epoch's first batch starting at 0 s. */
function progress(epoch: number, batch: number, last: BatchResult, samples: number, seconds: number): BatchProgress {
  return { epoch, batch, batches: 3, samples, loss: 0, accuracy: 0, seconds, last };
}

test('a line every N steps: global step and samples across epochs, means over the N steps, throughput, lr of the epoch', () => {
  let now = 10_000;
  const lines: string[] = [];
  const log = new StepLog('unused', { every: 2, samplesPerEpoch: 10, lrAt: (e) => 0.1 / (e + 1), clock: () => now, write: (l) => lines.push(l) });
  const layer = (a: number, b: number) => [{ associatedLoss: a, autoencoderLoss: b }];
  // epoch 0: batches of 4, 4, 2 samples; epoch 1: the same
  now = 10_500; // the first batch ends 0.5 s after its epoch began
  log.add(progress(0, 1, { size: 4, loss: 1, correct: 1, layers: layer(1, 2) }, 4, 0.5));
  now = 11_000;
  log.add(progress(0, 2, { size: 4, loss: 3, correct: 3, layers: layer(3, 4) }, 8, 1));
  now = 11_500;
  log.add(progress(0, 3, { size: 2, loss: 2, correct: 2, layers: layer(5, 6) }, 10, 1.5));
  now = 13_000;
  log.add(progress(1, 1, { size: 4, loss: 4, correct: 0, layers: layer(7, 8) }, 4, 0.5));
  now = 13_500;
  log.add(progress(1, 2, { size: 4, loss: 5, correct: 4, layers: layer(9, 10) }, 8, 1));
  const records = lines.map((l) => JSON.parse(l) as StepRecord);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  assert.deepEqual(records, [
    { step: 2, epoch: 1, samples: 8, seconds: 1, lr: 0.1, loss: 2, accuracy: 0.5, samplesPerSec: 8, layers: [{ associatedLoss: 2, autoencoderLoss: 3 }] },
    // steps 3 and 4: 2 + 4 samples over 2 s, means weighted by batch size
    { step: 4, epoch: 2, samples: 14, seconds: 3, lr: 0.05, loss: (2 * 2 + 4 * 4) / 6, accuracy: 2 / 6, samplesPerSec: 3,
      layers: [{ associatedLoss: (5 * 2 + 7 * 4) / 6, autoencoderLoss: (6 * 2 + 8 * 4) / 6 }] },
  ]);
});

test('no accuracy where it is not measured (NaN), no layers for BP; lines are appended to the file; bad every', () => {
  const file = join(tempDir('al-steps-'), 'steps.jsonl');
  let now = 0;
  const log = new StepLog(file, { every: 1, samplesPerEpoch: 6, lrAt: () => 0.001, clock: () => now });
  now = 250;
  log.add(progress(0, 1, { size: 2, loss: 0.5, correct: Number.NaN }, 2, 0.25));
  now = 500;
  log.add(progress(0, 2, { size: 2, loss: 0.25, correct: Number.NaN }, 4, 0.5));
  const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records, [
    { step: 1, epoch: 1, samples: 2, seconds: 0.25, lr: 0.001, loss: 0.5, samplesPerSec: 8 },
    { step: 2, epoch: 1, samples: 4, seconds: 0.5, lr: 0.001, loss: 0.25, samplesPerSec: 8 },
  ]);
  for (const every of [0, 1.5, -1]) {
    assert.throws(() => new StepLog(file, { every, samplesPerEpoch: 1, lrAt: () => 0 }), new RegExp(`every: expected an integer >= 1, got ${every}`));
  }
});
