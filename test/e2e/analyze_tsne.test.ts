// `al analyze --tsne` end to end on tiny trained runs: one SVG scatter plot per representation
// with a circle per point, the embeddings in analysis.json merged over an earlier analysis, the
// input's embedding keeping digits together, --layer, Ctrl-C through a real terminal, and bad
// flags exiting 2 with the flag named. The BP run's default layer is tested in analyze.test.ts,
// beside the BP run it trains already (training one costs 9 s here).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { alBin as al, runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 120_000 });

const base = tempDir('al-tsne-');
const alRun = join(base, 'al');
const lastLine = (text: string): Record<string, unknown> => JSON.parse(text.trim().split('\n').pop()!) as Record<string, unknown>;
const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const circles = (svg: string): number => svg.split('<circle class="point"').length - 1;

interface TsneLayer { name: string; layer: number | null; features: number; kl: number; svg: string; points: number[]; labels: number[] }
interface Tsne { perplexity: number; samples: number; seed: number; iterations: number; layers: TsneLayer[] }

/** Share of points whose k nearest neighbours in the embedding have their label, on average. */
function neighbourAgreement(points: number[], labels: number[], k: number): number {
  const n = labels.length;
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const d = labels.map((_, j) => [(points[2 * i]! - points[2 * j]!) ** 2 + (points[2 * i + 1]! - points[2 * j + 1]!) ** 2, j] as const)
      .filter(([, j]) => j !== i).sort((a, b) => a[0] - b[0]).slice(0, k);
    agree += d.filter(([, j]) => labels[j] === labels[i]).length / k;
  }
  return agree / n;
}

before(() => {
  const r = run(['train', '--model', 'mlp', '--method', 'al', '--limit', '256', '--epochs', '1', '--batch', '64', '--t-width', '32', '--al-layers', '3', '--threads', '1', '--out', alRun]);
  assert.equal(r.code, 0, r.stderr);
});

test('--tsne: a scatter plot per representation, and analysis.json keeps the earlier distance ratios beside the embeddings', () => {
  const first = run(['analyze', alRun, '--distance-ratio', '--samples', '200', '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(readJson(join(alRun, 'analysis.json')), lastLine(first.stdout), 'analysis.json is the object --json prints');

  const svgDir = join(base, 'plots');
  const r = run(['analyze', alRun, '--tsne', '--samples', '200', '--perplexity', '10', '--svg-dir', svgDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = lastLine(r.stdout);
  const tsne = out['tsne'] as Tsne;
  assert.deepEqual([tsne.perplexity, tsne.samples, tsne.seed, tsne.iterations], [10, 200, 1, 1000]);
  assert.deepEqual(tsne.layers.map((l) => [l.name, l.layer, l.features]), [['x (input)', null, 784], ['s1', 1, 32], ['s2', 2, 32], ['s3', 3, 32]]);
  for (const l of tsne.layers) {
    assert.equal(l.points.length, 400, `${l.name}: an x, y pair per sample`);
    assert.ok(l.points.every((p) => Number.isFinite(p) && Math.round(p * 1e4) / 1e4 === p), `${l.name}: finite, 4 decimals`);
    assert.deepEqual(l.labels, tsne.layers[0]!.labels, 'the same sample everywhere');
    assert.ok(l.kl > 0 && l.kl < 3, `${l.name}: KL ${l.kl}`);
    assert.equal(l.svg, join(svgDir, l.layer === null ? 'tsne-input.svg' : `tsne-layer-${l.layer}.svg`));
    const svg = readFileSync(l.svg, 'utf8');
    assert.match(svg, /^<\?xml[^>]*>\s*<svg [^>]*>[\s\S]*<\/svg>\s*$/);
    assert.equal(circles(svg), 200, `${l.name}: one circle per point`);
    assert.equal(svg.split('<rect class="legend"').length - 1, 10, 'a legend entry per digit');
    assert.match(svg, new RegExp(`KL ${l.kl.toFixed(4)} after 1000 iterations`));
    assert.match(svg, l.layer === null ? /t-SNE of the input x/ : new RegExp(`t-SNE of s${l.layer} \\(AL layer ${l.layer}\\)`));
  }
  const labels = tsne.layers[0]!.labels;
  assert.ok(labels.every((c) => Number.isInteger(c) && c >= 0 && c < 10) && new Set(labels).size === 10);
  // raw MNIST pixels already cluster by digit: t-SNE must keep that (chance is about 0.1)
  const agreement = neighbourAgreement(tsne.layers[0]!.points, labels, 5);
  assert.ok(agreement > 0.5, `5-NN label agreement of the input's embedding: ${agreement}`);

  const saved = readJson(join(alRun, 'analysis.json'));
  assert.deepEqual(saved['distanceRatio'], lastLine(first.stdout)['distanceRatio'], 'the earlier analysis is kept');
  assert.deepEqual(saved['tsne'], tsne);
  assert.ok(!existsSync(join(alRun, 'tsne-input.svg')), 'the plots went to --svg-dir');

  // --layer: the input and s2 only, the same embedding of s2 (same seed, same sample); the t-SNE replaces the old one
  const two = run(['analyze', alRun, '--tsne', '--layer', '2', '--samples', '200', '--perplexity', '10']);
  assert.equal(two.code, 0, two.stderr);
  assert.match(two.stdout, /t-SNE of 200 test samples \(seed 1\): perplexity 10, 1000 iterations, Barnes–Hut theta 0\.5, 1 thread/);
  assert.match(two.stdout, /^  s2 +32 +\d\.\d{4} +\d+\.\d +tsne-layer-2\.svg$/m);
  assert.match(two.stdout, /Saved in .*analysis\.json/);
  const again = readJson(join(alRun, 'analysis.json'));
  assert.deepEqual((again['tsne'] as Tsne).layers.map((l) => l.name), ['x (input)', 's2']);
  assert.deepEqual((again['tsne'] as Tsne).layers[1]!.points, tsne.layers[2]!.points);
  assert.ok(again['distanceRatio'] !== undefined);
  assert.equal(circles(readFileSync(join(alRun, 'tsne-layer-2.svg'), 'utf8')), 200);
});

test('a corrupt analysis.json is replaced, with a warning naming it', () => {
  const dir = join(base, 'corrupt');
  mkdirSync(dir);
  for (const file of ['config.json', 'metrics.jsonl']) copyFileSync(join(alRun, file), join(dir, file));
  writeFileSync(join(dir, 'analysis.json'), '{"tsne": [1, 2');
  const r = run(['analyze', dir, '--layer-losses']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /corrupt\/analysis\.json: not valid JSON \(.*\); replacing it/);
  assert.deepEqual(Object.keys(readJson(join(dir, 'analysis.json'))), ['runDir', 'model', 'dataset', 'method', 'layerLosses']);
});

test('Ctrl-C in a terminal stops the t-SNE between steps: exit 130, the earlier t-SNE kept', { skip: spawnSync('script', ['--version']).status !== 0 && 'no script(1) for a terminal' }, async () => {
  const before = readJson(join(alRun, 'analysis.json'))['tsne'];
  // script(1) gives al a terminal: its progress bar shows, and ^C typed there is a real SIGINT
  const command = `exec '${process.execPath}' '${al}' analyze '${alRun}' --tsne --layer 1 --samples 200 --perplexity 10 --iterations 100000000`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let typed = false;
  const code = await new Promise<number | null>((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!typed && /t-SNE 1\/2 x \(input\) \[[= >]+\] [1-9]\d*\/100000000 KL/.test(output)) {
        typed = true;
        child.stdin.write('\x03');
      }
    });
    child.on('exit', (c) => {
      clearTimeout(timer);
      done(c);
    });
  });
  assert.ok(typed, `the progress bar showed: ${JSON.stringify(output)}`);
  assert.equal(code, 130, output);
  assert.match(output, /t-SNE stopped by Ctrl-C/);
  assert.match(output, /Saved in .*analysis\.json \(without t-SNE, stopped by Ctrl-C\)/);
  assert.deepEqual(readJson(join(alRun, 'analysis.json'))['tsne'], before);
});

test('bad t-SNE flags exit 2 naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--tsne', '--perplexity', '0'], /--perplexity: expected a number >= 1, got '0'/],
    [['--tsne', '--perplexity', 'many'], /--perplexity: expected a number >= 1, got 'many'/],
    [['--tsne', '--samples', '200', '--perplexity', '70'], /--perplexity: expected 3·perplexity below the 200 samples .*, got 70; lower --perplexity or raise --samples/],
    [['--tsne', '--iterations', '0'], /--iterations: expected an integer from 1/],
    [['--distance-ratio', '--perplexity', '5'], /--perplexity: only applies to --tsne/],
    [['--layer-losses', '--iterations', '5'], /--iterations: only applies to --tsne/],
    [['--tsne', '--samples', '200', '--perplexity', '10', '--svg-dir', join(alRun, 'config.json', 'x')], /--svg-dir .*config\.json\/x: cannot create it \(ENOTDIR\)/],
  ];
  for (const [flags, message] of cases) {
    const r = run(['analyze', alRun, ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, flags.join(' '));
  }
});
