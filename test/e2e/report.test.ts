// `al report` end to end: two tiny real runs (pipelined AL with a trace, BP), each with the
// analysis.json of `al analyze --json`, become one page; headless Chromium opens it (and the page
// of the made-up runs of test/util/report_runs.ts, which have every section, t-SNE included) and
// the test reads back that every chart drew its data, the Gantt charts are there, the console
// stayed clean and nothing was fetched. Bad input exits 2 naming the file or flag.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { findChromium, openPage } from '../util/chromium.js';
import { writeReportRuns } from '../util/report_runs.js';
import { alBin as al, runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const chromium = findChromium();

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 120_000 });

/** The same, without waiting: the two training runs and the two analyses share the machine's cores. */
function runAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [al, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const base = tempDir('al-report-');
const alRun = join(base, 'al'), bpRun = join(base, 'bp');
const lastLine = (text: string): Record<string, unknown> => JSON.parse(text.trim().split('\n').pop()!) as Record<string, unknown>;

before(async () => {
  const trained = await Promise.all([
    runAsync(['train', '--model', 'mlp', '--method', 'al', '--pipeline', '--trace', '--limit', '256', '--epochs', '2', '--batch', '64', '--al-layers', '3', '--t-width', '32', '--log-every', '1', '--out', alRun]),
    runAsync(['train', '--model', 'mlp', '--method', 'bp', '--limit', '128', '--epochs', '1', '--batch', '64', '--threads', '1', '--log-every', '1', '--out', bpRun]),
  ]);
  for (const r of trained) assert.equal(r.code, 0, r.stderr);
  // analysis.json: what al analyze --json prints (every analysis that applies to the run)
  const analysed = await Promise.all([alRun, bpRun].map((dir) => runAsync(['analyze', dir, '--json', '--threads', '1', '--samples', '300'])));
  analysed.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(join([alRun, bpRun][i]!, 'analysis.json'), JSON.stringify(lastLine(r.stdout)));
  });
});

after(() => rmSync(base, { recursive: true, force: true }));

test('bad input: no RUN_DIR, no --out, a missing run directory or file, an unwritable --out: exit 2 naming it', () => {
  const out = join(base, 'bad.html');
  const cases: [string[], RegExp][] = [
    [['report', '--out', out], /expected at least one RUN_DIR/],
    [['report', alRun], /--out: required/],
    [['report', join(base, 'missing'), '--out', out], /missing: cannot read the run directory \(ENOENT\)/],
    [['report', alRun, '--out', join(base, 'no-such-dir', 'r.html')], /--out .*no-such-dir\/r\.html: cannot write the report \(ENOENT\)/],
    [['report', alRun, '--bogus', '--out', out], /Unknown option '--bogus'/],
  ];
  const noMetrics = join(base, 'no-metrics');
  mkdirSync(noMetrics);
  copyFileSync(join(alRun, 'config.json'), join(noMetrics, 'config.json'));
  cases.push([['report', noMetrics, '--out', out], /no-metrics\/metrics\.jsonl: cannot read the per-epoch metrics \(ENOENT\)/]);
  const badTrace = join(base, 'bad-trace');
  mkdirSync(badTrace);
  for (const f of ['config.json', 'metrics.jsonl']) copyFileSync(join(alRun, f), join(badTrace, f));
  writeFileSync(join(badTrace, 'trace.json'), '{"stages": [], "intervals": []}');
  cases.push([['report', badTrace, '--out', out], /bad-trace\/trace\.json: expected an object with non-empty 'stages' and 'intervals' lists/]);
  const locked = join(base, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  // root ignores directory permissions: that case only means something for other users
  if (process.getuid?.() !== 0) cases.push([['report', alRun, '--out', join(locked, 'r.html')], /cannot write the report \(EACCES\)/]);
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.throws(() => readFileSync(out), /ENOENT/, 'no page written on bad input');
});

interface PageState {
  charts: string;
  errors: string[];
  boxes: { id: string; rendered: string | null; inked: number; pixels: number }[];
  gantt: { kind: string; rects: number; width: number }[];
  injected: boolean;
}

const STATE = `(() => {
  const boxes = [...document.querySelectorAll('[data-chart]')].map((box) => {
    const canvas = box.querySelector('canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
    return { id: box.dataset.chart, rendered: box.getAttribute('data-rendered'), inked, pixels: pixels.length / 4 };
  });
  const gantt = [...document.querySelectorAll('[data-gantt]')].map((g) => ({ kind: g.dataset.gantt, rects: g.querySelectorAll('rect.interval').length, width: g.querySelector('svg').getBoundingClientRect().width }));
  return { charts: document.body.getAttribute('data-charts'), errors: window.__reportErrors, boxes, gantt, injected: document.getElementById('pwn') !== null };
})()`;

/** Opens `file` in Chromium; checks every chart drew its points, no error anywhere, no request off the file. */
async function checkInChromium(file: string): Promise<PageState> {
  const specs = (JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(readFileSync(file, 'utf8'))![1]!) as { charts: { id: string; series: { xy?: number[]; values?: (number | null)[] }[] }[] }).charts;
  const page = await openPage(chromium!, pathToFileURL(file).href);
  try {
    const state = await page.evaluate<PageState>(STATE);
    if (process.env['AL_REPORT_SCREENSHOT']) writeFileSync(`${process.env['AL_REPORT_SCREENSHOT']}-${specs.length}.png`, await page.screenshot());
    assert.deepEqual(state.errors, []);
    assert.equal(state.charts, `${specs.length}/${specs.length}`);
    assert.deepEqual(state.boxes.map((b) => b.id), specs.map((s) => s.id));
    specs.forEach((spec, i) => {
      const points = spec.series.reduce((n, s) => n + (s.xy ? s.xy.length / 2 : s.values!.filter((v) => v !== null).length), 0);
      const box = state.boxes[i]!;
      assert.ok(points > 0, `${spec.id} has data`);
      assert.equal(box.rendered, `${points} points`, `${spec.id} drew all its points`);
      // axes, labels and data: a drawn chart inks a few per cent of its canvas
      assert.ok(box.inked > 0.01 * box.pixels, `${spec.id}: ${box.inked} of ${box.pixels} pixels inked`);
    });
    for (const g of state.gantt) assert.ok(g.rects > 0 && g.width > 100, `${g.kind} Gantt chart drawn: ${JSON.stringify(g)}`);
    assert.equal(state.injected, false, 'no element from a run name or label');
    const problems = page.messages.filter((m) => ['error', 'exception', 'warning', 'assert'].includes(m.level));
    assert.deepEqual(problems, [], 'a clean console');
    assert.deepEqual(page.requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:')), [], 'nothing fetched from a network');
    return state;
  } finally {
    await page.close();
  }
}

const noChromium = chromium === null ? 'chromium is not installed (Debian package chromium; scripts/setup.sh installs it)' : false;

test('the report of a pipelined AL run and a BP run: every section with data, opened in Chromium', { skip: noChromium }, async () => {
  const out = join(base, 'report.html');
  const r = run(['report', alRun, bpRun, '--out', out, '--title', 'AL <vs> BP', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = lastLine(r.stdout);
  assert.deepEqual([summary['out'], summary['gantt']], [out, 2]);
  const html = readFileSync(out, 'utf8');
  assert.equal(summary['bytes'], Buffer.byteLength(html));
  assert.match(html, /<title>AL &lt;vs&gt; BP<\/title>/);
  const state = await checkInChromium(out);
  // AL (index 0): curves, per-layer losses (by epoch and, from steps.jsonl, by step), exits and stage utilisation;
  // BP: curves, its training accuracy and its loss by step; both: test accuracy against time (t-SNE plots join
  // when al analyze writes them)
  assert.deepEqual(state.boxes.map((b) => b.id).filter((id) => !id.startsWith('tsne-')),
    ['test-accuracy', 'train-accuracy', 'loss-0', 'loss-1', 'throughput', 'accuracy-time', 'step-loss-1', 'layer-losses-0', 'step-layer-losses-0', 'exit-accuracy', 'utilisation-0']);
  assert.equal(summary['charts'], state.boxes.length);
  assert.deepEqual(state.gantt.map((g) => g.kind), ['measured', 'simulated']);
  // the last epoch: 4 batches of 64 on 3 stages, measured and simulated
  assert.deepEqual(state.gantt.map((g) => g.rects), [12, 12]);
  assert.match(html, /<section id="distances">[\s\S]*<td>b3\(s3\)<\/td>[\s\S]*<td>7 Linear<\/td>/, 'class distances of both runs');
});

test('every kind of chart, t-SNE side by side included, draws in Chromium', { skip: noChromium }, async () => {
  const dirs = writeReportRuns(join(base, 'made-up'));
  const out = join(base, 'made-up.html');
  const r = run(['report', dirs.bp, dirs.al, dirs.gpipe, dirs.naive, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const state = await checkInChromium(out);
  assert.equal(state.boxes.filter((b) => b.id.startsWith('tsne-')).length, 4);
  assert.equal(state.gantt.length, 6);
});
