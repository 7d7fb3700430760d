// al reproduce cifar10, cifar100 and distance-ratio end to end on small files in CIFAR's official
// binary layout (a few experiments each, --limit, one epoch): ours beside the published figures,
// runs shared between tables and reused, a run with other settings refused, the missing-data
// message before anything trains, and --project without any data.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CIFAR_EPOCHS } from '../../src/cli/commands/reproduce_tables.js';
import { writeCifar10, writeCifar100 } from '../util/cifar_files.js';
import { runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const base = tempDir('al-reproduce-');
// the AL runs' checkpoints are large (the CNN's first bridge alone is 42M weights)
after(() => rmSync(base, { recursive: true, force: true }));

const run = (args: string[]): CliResult => runAl(['reproduce', ...args], { timeoutMs: 300_000 });

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop()!) as T;

function dataDir(name: string, cifar100 = true): string {
  const dir = join(base, name);
  writeCifar10(join(dir, 'cifar-10-batches-bin'), 16);
  if (cifar100) writeCifar100(join(dir, 'cifar-100-binary'), 40, 20);
  return dir;
}

interface Distances { name: string; representation: string; features: number; samples: number; inter: number; intra: number; ratio: number }

test('cifar10 then distance-ratio: the CNN pair trained once, reused by the second table, analysed, beside the published', { timeout: 300_000 }, () => {
  const data = dataDir('data');
  const out = join(base, 'runs');
  const common = ['--epochs', '1', '--limit', '32', '--data-dir', data, '--out', out, '--json'];
  const first = run(['cifar10', '--only', 'cnn-bp,cnn-al', ...common]);
  assert.equal(first.code, 0, first.stderr);
  const table = lastJson<{ runs: { name: string; epochs: number; runDir: string }[]; accuracy: { network: string; bp: { ours: number; published: null }; al: { ours: number } }[] }>(first.stdout);
  assert.deepEqual(table.runs.map((r) => [r.name, r.epochs, r.runDir]), [['cnn-bp', 1, join(out, 'cifar10', 'cnn-bp')], ['cnn-al', 1, join(out, 'cifar10', 'cnn-al')]]);
  assert.deepEqual(table.accuracy.map((r) => r.network), ['Vanilla CNN']);
  // 16 test images: accuracies in sixteenths
  for (const acc of [table.accuracy[0]!.bp.ours, table.accuracy[0]!.al.ours]) assert.ok(Number.isInteger(acc * 16) && acc >= 0 && acc <= 1, String(acc));
  assert.equal(table.accuracy[0]!.bp.published, null, 'the CIFAR-10 CNN figure is not legible in the reference');

  const trained = statSync(join(out, 'cifar10', 'cnn-al', 'checkpoint.json')).mtimeMs;
  const ratios = run(['distance-ratio', '--only', 'cifar10-cnn-bp,cifar10-cnn-al', ...common]);
  assert.equal(ratios.code, 0, ratios.stderr);
  assert.equal(statSync(join(out, 'cifar10', 'cnn-al', 'checkpoint.json')).mtimeMs, trained, 'reused, not trained again');
  const { distances } = lastJson<{ distances: { dataset: string; network: string; bp: Distances; al: Distances; published: { al: { ratio: number } } }[] }>(ratios.stdout);
  assert.equal(distances.length, 1);
  const [row] = distances;
  assert.deepEqual([row!.dataset, row!.network, row!.published.al.ratio], ['cifar10', 'Vanilla CNN', 3.25]);
  assert.equal(row!.al.representation, 'b4(s4)', 'the top AL layer\'s bridge output');
  assert.equal(row!.al.features, 256, 't width of the Vanilla CNN on CIFAR-10');
  assert.match(row!.bp.representation, /^\d+ /, 'a top-level module of the BP network');
  for (const d of [row!.bp, row!.al]) {
    assert.equal(d.samples, 16);
    assert.ok(d.inter > 0 && d.intra > 0);
    assert.ok(Math.abs(d.ratio - d.inter / d.intra) < 1e-9);
  }
  // the same figures al analyze saved in the run directory
  const saved = JSON.parse(readFileSync(join(out, 'cifar10', 'cnn-al', 'analysis.json'), 'utf8')) as { distanceRatio: { rows: { name: string; inter: number }[] } };
  assert.equal(saved.distanceRatio.rows.find((r) => r.name === 'b4(s4)')!.inter, row!.al.inter);

  const other = run(['cifar10', '--only', 'cnn-bp', '--epochs', '1', '--limit', '16', '--data-dir', data, '--out', out]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /cifar10\/cnn-bp: holds a run with limit 32, but cnn-bp needs limit 16: give another --out, or remove that folder/);
});

test('cifar100: ResNet-20 BP on the fine labels beside the published row; a second invocation reuses the run', { timeout: 300_000 }, () => {
  const data = dataDir('data100');
  const out = join(base, 'runs100');
  const args = ['cifar100', '--only', 'resnet20-bp', '--epochs', '1', '--limit', '40', '--data-dir', data, '--out', out];
  const first = run(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /\[1\/1\] resnet20-bp: al train --model resnet20 --dataset cifar100 --method bp --epochs 1/);
  assert.match(first.stdout, /CIFAR-100 \(100 fine classes\): test accuracy/);
  assert.match(first.stdout, /ResNet-20\s+1\s+\d+\.\d\d%\s+63\.7 ± 0\.2%\s+—\s+—\s+61\.0 ± 0\.6%/);
  const config = JSON.parse(readFileSync(join(out, 'cifar100', 'resnet20-bp', 'config.json'), 'utf8')) as { label: string; limit: number };
  assert.deepEqual([config.label, config.limit], ['fine', 40]);
  const again = run(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\[1\/1\] resnet20-bp: reusing .*resnet20-bp \(1 epoch\)/);
});

test('missing or broken CIFAR data: exit 2 with where to get it and how to lay it out, before anything trains', () => {
  const out = join(base, 'nothing');
  const none = run(['cifar10', '--out', out]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--data-dir: required for the CIFAR-10 runs\. CIFAR-10 is not bundled: download the binary version \(cifar-10-binary\.tar\.gz\) from https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar\.html, extract it/);
  const gone = run(['cifar100', '--data-dir', join(base, 'no-such-dir'), '--out', out]);
  assert.equal(gone.code, 2);
  assert.ok(gone.stderr.includes(`${join(base, 'no-such-dir')}: folder not found: CIFAR-100 is not bundled`), gone.stderr);
  // distance-ratio needs both datasets: CIFAR-100 missing fails before the CIFAR-10 runs start
  const half = dataDir('only10', false);
  const ratios = run(['distance-ratio', '--data-dir', half, '--out', out]);
  assert.equal(ratios.code, 2);
  assert.match(ratios.stderr, /train\.bin: file not found: CIFAR-100 is not bundled: .*cifar-100-binary folder \(or the folder holding it\), which holds train\.bin, test\.bin/);
  const cut = join(half, 'cifar-10-batches-bin', 'test_batch.bin');
  writeFileSync(cut, readFileSync(cut).subarray(0, 5000));
  const truncated = run(['cifar10', '--data-dir', half, '--out', out]);
  assert.equal(truncated.code, 2);
  assert.ok(truncated.stderr.includes(`${cut}: size 5000 bytes is not a whole number of 3073-byte records`), truncated.stderr);
  assert.equal(existsSync(out), false, 'no run directory was started');

  const unknown = run(['cifar10', '--only', 'resnet20-bp,resnet56-bp', '--data-dir', half]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--only: expected names among cifar10's runs \(mlp-bp, mlp-al, .*resnet32-al\), got 'resnet56-bp'/);
  const project = run(['mnist', '--project']);
  assert.equal(project.code, 2);
  assert.match(project.stderr, /--project: only for the CIFAR tables \(cifar10, cifar100, distance-ratio\), not mnist/);
});

test('--project: timed on random CIFAR-shaped data, no data and no run directory needed', { timeout: 300_000 }, () => {
  // the MLP: the cheapest step to time; the other backbones go through the same code
  const out = join(base, 'projected');
  const r = run(['cifar10', '--project', '--project-steps', '1', '--only', 'mlp-bp', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { trainSamples, projection } = lastJson<{ trainSamples: number; projection: Record<string, number | string>[] }>(r.stdout);
  assert.equal(trainSamples, 50_000);
  assert.deepEqual(projection.map((p) => [p['name'], p['steps'], p['batch'], p['epochs']]), [['mlp-bp', 1, 128, CIFAR_EPOCHS.mlp]]);
  const p = projection[0] as Record<string, number>;
  assert.ok(p['trainSamplesPerSec']! > 0 && p['evalSamplesPerSec']! > 0 && p['cpuShare']! > 0 && p['threads']! >= 1);
  const epoch = 50_000 / p['trainSamplesPerSec']! + 10_000 / p['evalSamplesPerSec']!;
  assert.ok(Math.abs(p['epochSeconds']! - epoch) < 1e-6 * epoch);
  assert.ok(Math.abs(p['budgetSeconds']! - CIFAR_EPOCHS.mlp * epoch) < 1e-6 * CIFAR_EPOCHS.mlp * epoch);
  assert.equal(existsSync(out), false);
});
