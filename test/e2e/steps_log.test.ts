// `al train --log-every N`: steps.jsonl in the run directory, sequential and pipelined, BP and AL,
// and across a resume (lines past the checkpoint dropped, the step count going on).
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAl } from '../util/al_cli.js';
import { blobs, writeNpyBlobs } from '../util/npy_files.js';
import { tempDir } from '../util/temp_dir.js';

const tmp = tempDir('al-e2e-steps-');
const data = join(tmp, 'data');
// 200 samples in batches of 20: 10 steps an epoch
writeNpyBlobs(data, blobs(200, 4, 2, 5), blobs(40, 4, 2, 6));
const BASE = ['train', '--dataset', 'npy', '--data-dir', data, '--model', 'mlp', '--batch', '20', '--threads', '1'];

interface Line { step: number; epoch: number; samples: number; seconds: number; lr: number; loss: number; accuracy?: number; samplesPerSec: number; layers?: unknown[] }

const readLines = (file: string): Line[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);

function train(args: string[]): void {
  const r = runAl([...BASE, ...args], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
}

test('sequential AL: a line every 3 steps over two epochs, with each layer\'s losses and the epoch\'s lr', () => {
  const out = join(tmp, 'al');
  train(['--method', 'al', '--epochs', '2', '--log-every', '3', '--out', out]);
  const lines = readLines(join(out, 'steps.jsonl'));
  assert.deepEqual(lines.map((l) => l.step), [3, 6, 9, 12, 15, 18]);
  assert.deepEqual(lines.map((l) => l.epoch), [1, 1, 1, 2, 2, 2]);
  assert.deepEqual(lines.map((l) => l.samples), [60, 120, 180, 240, 300, 360]);
  const epochs = readLines(join(out, 'metrics.jsonl'));
  assert.deepEqual(lines.map((l) => l.lr), lines.map((l) => epochs[l.epoch - 1]!.lr));
  assert.notEqual(epochs[0]!.lr, epochs[1]!.lr, 'the paper schedule lowers the rate in epoch 2 of 2');
  for (const [i, l] of lines.entries()) {
    assert.equal(l.layers?.length, 2);
    assert.ok(l.loss > 0 && Number.isFinite(l.loss));
    assert.ok(l.accuracy !== undefined && l.accuracy >= 0 && l.accuracy <= 1);
    assert.ok(l.samplesPerSec > 0 && Number.isFinite(l.samplesPerSec));
    if (i > 0) assert.ok(l.seconds > lines[i - 1]!.seconds);
  }
  assert.ok(lines[0]!.seconds > 0);
});

test('BP has no layer losses; pipelined AL logs its layers (its accuracy is not measured per batch)', () => {
  const bp = join(tmp, 'bp');
  train(['--epochs', '1', '--log-every', '5', '--out', bp]);
  const b = readLines(join(bp, 'steps.jsonl'));
  assert.deepEqual(b.map((l) => l.step), [5, 10]);
  assert.ok(b.every((l) => l.layers === undefined && l.accuracy !== undefined));

  const piped = join(tmp, 'piped');
  train(['--method', 'al', '--pipeline', '--epochs', '1', '--log-every', '4', '--out', piped]);
  const p = readLines(join(piped, 'steps.jsonl'));
  assert.deepEqual(p.map((l) => l.step), [4, 8]);
  assert.deepEqual(p.map((l) => l.samples), [80, 160]);
  assert.ok(p.every((l) => l.layers?.length === 2 && l.accuracy === undefined));
});

test('a resumed run drops the lines past its checkpoint and goes on logging at the saved rate', () => {
  const out = join(tmp, 'resumed');
  train(['--method', 'al', '--epochs', '1', '--log-every', '4', '--out', out]);
  const file = join(out, 'steps.jsonl');
  // a line of an epoch the checkpoint does not hold, as a run killed in epoch 2 leaves
  appendFileSync(file, JSON.stringify({ step: 12, epoch: 2, samples: 240, seconds: 9, lr: 1, loss: 9, samplesPerSec: 1 }) + '\n');
  const r = runAl(['train', '--resume', out, '--epochs', '2'], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = readLines(file);
  assert.deepEqual(lines.map((l) => l.step), [4, 8, 12, 16, 20]);
  assert.deepEqual(lines.map((l) => l.epoch), [1, 1, 2, 2, 2]);
  assert.notEqual(lines[2]!.loss, 9);
});

test('--log-every must be an integer >= 1', () => {
  const r = runAl([...BASE, '--log-every', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--log-every: expected an integer from 1, got '0'/);
});
