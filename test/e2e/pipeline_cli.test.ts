// `al train --method al --pipeline` end to end: the same losses as sequential AL in the metrics,
// a trace with every stage's busy intervals, and clear errors for flags that do not combine.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { interruptAfterFirstEpoch } from '../util/interrupt.js';
import { alBin as al, runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 120_000 });

const metrics = (dir: string): Record<string, unknown>[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('pipelined AL run: same per-layer losses and test accuracy as sequential AL, and a trace per stage', () => {
  const base = tempDir('al-pipe-');
  const common = ['train', '--model', 'mlp', '--method', 'al', '--al-layers', '3', '--t-width', '64', '--limit', '384', '--epochs', '2', '--batch', '64', '--threads', '1', '--test-limit', '1000'];
  const seq = run([...common, '--out', join(base, 'seq')]);
  assert.equal(seq.code, 0, seq.stderr);
  const pipe = run([...common, '--pipeline', '--trace', '--out', join(base, 'pipe')]);
  assert.equal(pipe.code, 0, pipe.stderr);
  assert.match(pipe.stdout, /pipeline: 3 stages on worker threads \(AL layers 1 \| 2 \| 3; \d+ % \| \d+ % \| \d+ % of the multiply-adds\), 1 thread each/);
  const a = metrics(join(base, 'seq')), b = metrics(join(base, 'pipe'));
  assert.equal(b.length, 2);
  for (let e = 0; e < 2; e++) {
    assert.deepEqual(b[e]!['layers'], a[e]!['layers']);
    assert.equal(b[e]!['testAccuracy'], a[e]!['testAccuracy']);
    assert.equal(b[e]!['trainAccuracy'], null);
    assert.equal((b[e]!['utilisation'] as number[]).length, 3);
  }
  const trace = JSON.parse(readFileSync(join(base, 'pipe', 'trace.json'), 'utf8')) as { intervals: { stage: number; batch: number; start: number; end: number }[] };
  for (let stage = 0; stage < 3; stage++) {
    const mine = trace.intervals.filter((i) => i.stage === stage);
    assert.equal(mine.length, 12, `stage ${stage}: 6 batches x 2 epochs`);
    // a stage does one thing at a time, and batch m reaches stage k+1 only after stage k is done with it
    mine.forEach((i, j) => j > 0 && assert.ok(i.start >= mine[j - 1]!.end));
  }
  for (const i of trace.intervals.filter((i) => i.stage > 0)) {
    const before = trace.intervals.find((j) => j.stage === i.stage - 1 && j.batch === i.batch)!;
    assert.ok(i.start >= before.end, `batch ${i.batch} on stage ${i.stage}`);
  }
});

test('gpipe and naive-pipeline runs: per-stage trace with forward, backward and update; naive reports staleness', () => {
  const base = tempDir('al-pipe-');
  const common = ['train', '--model', 'cnn', '--limit', '96', '--epochs', '1', '--batch', '32', '--workers', '2', '--trace', '--test-limit', '1000'];
  const gpipe = run([...common, '--method', 'gpipe', '--micro-batches', '4', '--out', join(base, 'gpipe')]);
  assert.equal(gpipe.code, 0, gpipe.stderr);
  assert.match(gpipe.stdout, /pipeline: 2 stages on worker threads \(modules 0-\d+ \| \d+-14\), 1 thread each, 4 micro-batches per mini-batch/);
  const trace = JSON.parse(readFileSync(join(base, 'gpipe', 'trace.json'), 'utf8')) as { method: string; intervals: { stage: number; batch: number; kind: string }[] };
  assert.equal(trace.method, 'gpipe');
  for (const stage of [0, 1]) {
    const kinds = (kind: string): number => trace.intervals.filter((i) => i.stage === stage && i.kind === kind).length;
    assert.deepEqual([kinds('forward'), kinds('backward'), kinds('update')], [12, 12, 3], `stage ${stage}: 3 mini-batches x 4 micro-batches`);
  }
  const m = metrics(join(base, 'gpipe'))[0]!;
  assert.ok(typeof m['trainAccuracy'] === 'number');
  const naive = run([...common, '--method', 'naive-pipeline', '--out', join(base, 'naive')]);
  assert.equal(naive.code, 0, naive.stderr);
  assert.match(naive.stdout, /staleness \d+\.\d\d updates/);
  assert.ok(typeof metrics(join(base, 'naive'))[0]!['staleness'] === 'number');
});

test('pipeline flags that do not combine exit 2 naming the flag', () => {
  const bp = run(['train', '--method', 'bp', '--pipeline']);
  assert.equal(bp.code, 2);
  assert.match(bp.stderr, /--pipeline: --method bp has no pipelined form/);
  const micro = run(['train', '--method', 'al', '--pipeline', '--micro-batches', '4']);
  assert.equal(micro.code, 2);
  assert.match(micro.stderr, /--micro-batches: only applies to --method gpipe/);
  const manyOut = join(tempDir('al-pipeline-flags-'), 'run');
  const many = run(['train', '--method', 'gpipe', '--model', 'mlp', '--workers', '9', '--out', manyOut]);
  assert.equal(many.code, 2);
  assert.match(many.stderr, /--workers: at most one stage per top-level module \(7 in mlp\), got 9/);
  assert.ok(!existsSync(manyOut), 'a refused run left its directory behind');
  const workers = run(['train', '--method', 'al', '--pipeline', '--workers', '3']);
  assert.equal(workers.code, 2);
  assert.match(workers.stderr, /--workers: at most one stage per AL layer \(2 layers\), got 3/);
  const trace = run(['train', '--method', 'al', '--trace']);
  assert.equal(trace.code, 2);
  assert.match(trace.stderr, /--trace: only applies with --pipeline/);
});

test('fewer workers than AL layers: contiguous stages balanced by measured cost', () => {
  const out = join(tempDir('al-pipe-'), 'run');
  const r = run(['train', '--model', 'mlp', '--method', 'al', '--al-layers', '4', '--t-width', '32', '--limit', '128', '--epochs', '1', '--batch', '64', '--pipeline', '--workers', '2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const m = /pipeline: 2 stages on worker threads \(AL layers [0-9+]+ \| [0-9+]+; (\d+) % \| (\d+) % of the multiply-adds\)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  // each stage's share of the step, rounded: they add up to the whole
  assert.ok(Math.abs(Number(m[1]) + Number(m[2]) - 100) <= 1, m[0]);
});

test('a pipelined AL run stopped after epoch 1 and resumed ends with the same checkpoint as one that ran through', () => {
  const base = tempDir('al-pipe-');
  const common = ['--model', 'mlp', '--method', 'al', '--pipeline', '--al-layers', '2', '--t-width', '32', '--limit', '256', '--batch', '64', '--test-limit', '1000'];
  const straight = run(['train', ...common, '--epochs', '2', '--out', join(base, 'straight')]);
  assert.equal(straight.code, 0, straight.stderr);
  const first = run(['train', ...common, '--epochs', '1', '--out', join(base, 'resumed')]);
  assert.equal(first.code, 0, first.stderr);
  const second = run(['train', '--resume', join(base, 'resumed'), '--epochs', '2']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /resumed after epoch 1/);
  assert.ok(readFileSync(join(base, 'resumed', 'checkpoint.safetensors')).equals(readFileSync(join(base, 'straight', 'checkpoint.safetensors'))));
  assert.deepEqual(metrics(join(base, 'resumed')).map((m) => m['layers']), metrics(join(base, 'straight')).map((m) => m['layers']));
});

test('al reproduce runs a table once, reuses finished runs, and refuses an unknown table', (t) => {
  const out = tempDir('al-rep-');
  t.after(() => rmSync(out, { recursive: true, force: true })); // four runs' checkpoints: 1.5 GB
  const args = ['reproduce', 'layers', '--epochs', '1', '--limit', '64', '--out', out, '--json'];
  const first = run(args);
  assert.equal(first.code, 0, first.stderr);
  const table = JSON.parse(first.stdout.trim().split('\n').pop()!) as { runs: { name: string; epochs: number; testAccuracy: number }[] };
  assert.deepEqual(table.runs.map((r) => [r.name, r.epochs]), [['mlp-al-1', 1], ['mlp-al-2', 1], ['mlp-al-3', 1], ['mlp-al-4', 1]]);
  const again = run(args.filter((a) => a !== '--json'));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.match(/reusing/g)?.length, 4);
  const bad = run(['reproduce', 'tables']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /TABLE: expected one of mnist, cifar10, cifar100, layers, distance-ratio, pipeline, time-to-accuracy, got 'tables'/);
});

test('Ctrl-C stops every stage of a pipelined run cleanly; the checkpoint keeps the last finished epoch', { timeout: 120_000 }, async () => {
  const out = join(tempDir('al-pipe-'), 'run');
  const { code, stdout } = await interruptAfterFirstEpoch(al, ['--model', 'mlp', '--method', 'al', '--pipeline', '--al-layers', '3', '--t-width', '64',
    '--limit', '3000', '--out', out], 50, 300);
  assert.equal(code, 130, stdout);
  const saved = Number(/stopped early by Ctrl-C .*: the checkpoint holds epoch (\d+); al train --resume/.exec(stdout)?.[1]);
  assert.ok(saved >= 1, stdout);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, saved);
  assert.equal(JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')).epoch, saved);
});
