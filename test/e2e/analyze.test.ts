// `al analyze` end to end on real run directories: a tiny pipelined AL run with a trace (every
// table, both Gantt charts written, --json), a tiny BP run (distance ratios of each top-level
// module; t-SNE of its penultimate one by default; the rest of --tsne is in analyze_tsne.test.ts),
// and bad input: each exits 2 with a message naming the file or the flag.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 180_000 });

const base = tempDir('al-analyze-');
const alRun = join(base, 'al'), bpRun = join(base, 'bp');
const lastLine = (text: string): Record<string, unknown> => JSON.parse(text.trim().split('\n').pop()!) as Record<string, unknown>;
const rects = (svg: string): number => svg.split('<rect class="interval"').length - 1;

/** A copy of the AL run directory with only `files`. */
function copyOf(name: string, files: string[]): string {
  const dir = join(base, name);
  mkdirSync(dir);
  for (const f of files) copyFileSync(join(alRun, f), join(dir, f));
  return dir;
}

before(() => {
  const r = run(['train', '--model', 'mlp', '--method', 'al', '--limit', '256', '--epochs', '1', '--batch', '64', '--t-width', '32', '--al-layers', '3',
    '--pipeline', '--trace', '--out', alRun]);
  assert.equal(r.code, 0, r.stderr);
  const b = run(['train', '--model', 'mlp', '--method', 'bp', '--limit', '128', '--epochs', '1', '--batch', '64', '--threads', '1', '--out', bpRun]);
  assert.equal(b.code, 0, b.stderr);
});

test('a pipelined AL run: every table, and the measured and simulated Gantt charts in the run directory', () => {
  const r = run(['analyze', alRun, '--threads', '1']);
  assert.equal(r.code, 0, r.stderr);
  for (const heading of [/Per-layer losses \(epoch 1;/, /^  AL layer  associated  autoencoder$/m, /associated loss, layer 1 \/ layer 3 at epoch 1: /, /Class distances on 2000 test samples \(seed 1\)/,
    /Test accuracy by exit layer/, /The authors' slide: associated loss per layer, MNIST after 200 epochs: one column per network/,
    /^    1 +1\.249e-5 +1\.222e-5 +\?$/m, /^    3 +— +— +6\.719e-10$/m, /this run has 3 AL layers: compare with the 3-layer column/,
    /Class codes per layer on 10000 test samples/, /normalised \(test\) +nearest-code accuracy$/m, /Measured timeline \(trace\.json\): 4 batches/, /Simulated AL schedule .* 3 layers on 3 stages, 4 batches: 6 units/,
    /Projected samples\/s of pipelined AL/, /measured \(metrics\.jsonl, last epoch\) vs projected for 3 devices: [+-]\d+\.\d% \((within|outside) ±15% of the projection\)$/m]) {
    assert.match(r.stdout, heading);
  }
  for (const row of ['x (input)', 's1', 'b1(s1)', 't1 (targets)', 's3', 'b3(s3)', 't3 (targets)']) assert.match(r.stdout, new RegExp(`^  ${row.replace(/[()]/g, '\\$&')} `, 'm'));
  assert.equal(r.stdout.match(/^  [123] +\d+\.\d\d%$/gm)?.length, 3, 'one accuracy per exit layer');
  const measured = readFileSync(join(alRun, 'timeline-measured.svg'), 'utf8');
  const simulated = readFileSync(join(alRun, 'timeline-simulated.svg'), 'utf8');
  for (const svg of [measured, simulated]) {
    assert.match(svg, /^<\?xml[^>]*>\s*<svg /);
    assert.match(svg, /<\/svg>\s*$/);
    assert.equal(rects(svg), 12, '4 batches × 3 stages');
  }
  assert.match(measured, /time \(ms\)/);
  assert.match(simulated, /time \(units\)/);
});

test('--json: one object with every selected table; --svg-dir, --layer and --samples apply', () => {
  const svgDir = join(base, 'charts');
  const r = run(['analyze', alRun, '--json', '--layer', '2', '--samples', '300', '--seed', '4', '--svg-dir', svgDir, '--threads', '1']);
  assert.equal(r.code, 0, r.stderr);
  const out = lastLine(r.stdout);
  assert.equal(out['method'], 'al');
  const losses = out['layerLosses'] as { rows: unknown[]; depthRatio: number };
  assert.equal(losses.rows.length, 3);
  assert.ok(losses.depthRatio > 0);
  const distance = out['distanceRatio'] as { samples: number; seed: number; rows: { name: string; inter: number; intra: number; ratio: number }[]; targets: { name: string }[] };
  assert.deepEqual([distance.samples, distance.seed], [300, 4]);
  assert.deepEqual(distance.rows.map((x) => x.name), ['x (input)', 's2', 'b2(s2)']);
  assert.deepEqual(distance.targets.map((x) => x.name), ['t2']);
  for (const row of distance.rows) assert.ok(row.inter > 0 && row.intra > 0 && Math.abs(row.ratio - row.inter / row.intra) < 1e-12, JSON.stringify(row));
  assert.deepEqual((out['layerLosses'] as { slides: { columns: unknown[] } }).slides.columns.length, 3);
  const codes = out['layerCodes'] as { samples: number; rows: { layer: number; associated: number; spread: number; normalised: number; nearestCodeAccuracy: number }[]; train: { epoch: number; associated: number[]; normalised: number[] } };
  assert.equal(codes.samples, 10000);
  assert.deepEqual(codes.rows.map((x) => x.layer), [1, 2, 3]);
  for (const [k, row] of codes.rows.entries()) {
    assert.ok(row.spread > 0 && Math.abs(row.normalised - row.associated / row.spread) <= 1e-12 * row.normalised, JSON.stringify(row));
    assert.ok(row.nearestCodeAccuracy >= 0 && row.nearestCodeAccuracy <= 1);
    assert.equal(codes.train.associated[k], losses.rows[k] && (losses.rows[k] as { last: { associatedLoss: number } }).last.associatedLoss);
    assert.ok(Math.abs(codes.train.normalised[k]! - codes.train.associated[k]! / row.spread) <= 1e-12 * codes.train.normalised[k]!);
  }
  const exits = out['exitAccuracy'] as { exit: number; testAccuracy: number }[];
  assert.deepEqual(exits.map((e) => e.exit), [1, 2, 3]);
  const evalExit = lastLine(run(['eval', alRun, '--exit-layer', '2', '--json', '--threads', '1']).stdout);
  assert.equal(exits[1]!.testAccuracy, evalExit['testAccuracy'], 'the same as al eval --exit-layer 2');
  const timeline = out['timeline'] as { stages: unknown[]; bubble: number; projectionEpoch: number; inEpochs: { bubble: number }; projection: { rows: { devices: number }[] }; svg: { measured: string; simulated: string } };
  assert.equal(timeline.stages.length, 3);
  assert.ok(timeline.bubble > 0 && timeline.bubble < 1);
  assert.ok(timeline.inEpochs.bubble <= timeline.bubble);
  assert.deepEqual(timeline.projection.rows.map((x) => x.devices), [1, 2, 4, 8]);
  assert.equal(timeline.projectionEpoch, 1, 'projected from the steps of the epoch it is compared with');
  assert.deepEqual(timeline.svg, { measured: join(svgDir, 'timeline-measured.svg'), simulated: join(svgDir, 'timeline-simulated.svg') });
  assert.ok(existsSync(timeline.svg.measured) && existsSync(timeline.svg.simulated));
});

test('a BP run: distance ratios of each top-level module; AL-only analyses exit 2 naming the flag', () => {
  const r = run(['analyze', bpRun, '--json', '--samples', '200', '--threads', '1']);
  assert.equal(r.code, 0, r.stderr);
  const out = lastLine(r.stdout);
  assert.deepEqual(Object.keys(out).filter((k) => !['runDir', 'model', 'dataset', 'method'].includes(k)), ['distanceRatio']);
  const rows = (out['distanceRatio'] as { rows: { name: string; features: number }[] }).rows;
  assert.deepEqual(rows.map((x) => x.name), ['x (input)', '1 Flatten', '2 Linear+Activation', '3 Linear+Activation', '4 Linear+Activation', '5 Linear+Activation', '6 Linear+Activation', '7 Linear']);
  assert.deepEqual(rows.map((x) => x.features), [784, 784, 1024, 1024, 5120, 1024, 1024, 10]);
  for (const flag of ['--layer-losses', '--layer-codes', '--exit-accuracy']) {
    const bad = run(['analyze', bpRun, flag]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`${flag}: only AL runs have .*--method bp run`));
  }
});

test('a BP run: --tsne embeds the penultimate module (the classifier\'s input) by default', () => {
  const r = run(['analyze', bpRun, '--tsne', '--samples', '150', '--perplexity', '5', '--iterations', '300', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const tsne = lastLine(r.stdout)['tsne'] as { layers: { name: string; layer: number | null; features: number; points: number[] }[] };
  assert.deepEqual(tsne.layers.map((l) => [l.name, l.layer, l.features, l.points.length]), [['x (input)', null, 784, 300], ['6 Linear+Activation', 6, 1024, 300]]);
  assert.match(readFileSync(join(bpRun, 'tsne-layer-6.svg'), 'utf8'), /t-SNE of module 6 \(Linear\+Activation\)[\s\S]*after 300 iterations/);
});

test('bad input exits 2 naming the run directory, the file or the flag', () => {
  const cases: [string[], RegExp][] = [
    [['analyze', join(base, 'nope')], /nope: cannot read the run directory \(ENOENT\)/],
    [['analyze', join(alRun, 'config.json')], /config\.json: not a directory/],
    [['analyze'], /expected one RUN_DIR, got 0/],
    [['analyze', copyOf('empty', [])], /empty\/config\.json: cannot read the run's configuration/],
    [['analyze', copyOf('no-metrics', ['config.json', 'checkpoint.safetensors', 'trace.json']), '--layer-losses'], /no-metrics\/metrics\.jsonl: cannot read it \(ENOENT\)/],
    [['analyze', copyOf('no-trace', ['config.json', 'checkpoint.safetensors', 'metrics.jsonl']), '--timeline'], /no-trace\/trace\.json: not found; --timeline needs/],
    [['analyze', alRun, '--timeline', '--layer', '2'], /--layer: only applies to --distance-ratio and --tsne/],
    [['analyze', alRun, '--layer-losses', '--svg-dir', base], /--svg-dir: only applies to --timeline and --tsne/],
    [['analyze', alRun, '--distance-ratio', '--layer', '4'], /--layer: expected one of the AL layers 1\.\.3, got 4/],
    [['analyze', alRun, '--distance-ratio', '--samples', '1'], /--samples: expected an integer from 2 to 10000, got '1'/],
    [['analyze', alRun, '--distance-ratio', '--layre', '1'], /'--layre'/],
  ];
  const corrupt = copyOf('corrupt', ['config.json', 'metrics.jsonl']);
  writeFileSync(join(corrupt, 'trace.json'), '{"stages": [{"stage": 0, "layers": [1]}], "intervals": [{"stage": 3}]}');
  cases.push([['analyze', corrupt, '--timeline'], /corrupt\/trace\.json: intervals\[0\]: expected \{stage: 0\.\.0/]);
  const noCheckpoint = copyOf('no-checkpoint', ['config.json', 'metrics.jsonl']);
  cases.push([['analyze', noCheckpoint, '--exit-accuracy'], /no-checkpoint\/checkpoint\.json: cannot read the checkpoint \(ENOENT\)/]);
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});
