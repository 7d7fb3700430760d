// The report's page from run directories with every file (test/util/report_runs.ts): each section
// present and fed with the runs' numbers, every string from outside escaped, nothing fetched, and
// bad files refused with a message naming the file and the key.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartLibrary } from '../../../src/report/chart_library.js';
import { pointCount, type ChartSpec } from '../../../src/report/charts.js';
import { escapeHtml, scriptJson } from '../../../src/report/html.js';
import { MAX_CHART_INTERVALS, pipelineView } from '../../../src/report/pipeline_section.js';
import { buildReport } from '../../../src/report/report.js';
import { loadRun, loadRuns, parseRunTrace } from '../../../src/report/run_files.js';
import { HOSTILE, HOSTILE_LAYER, testAccuracy, writeReportRuns } from '../../util/report_runs.js';
import { tempDir } from '../../util/temp_dir.js';

const base = tempDir('al-report-unit-');
const dirs = writeReportRuns(base);
const runs = loadRuns([dirs.bp, dirs.al, dirs.gpipe, dirs.naive]);
const library = chartLibrary();
const report = buildReport(runs, { library, title: `Report of ${HOSTILE}`, versions: { 'associated-learning': '0.0.0' }, now: new Date('2025-01-02T03:04:05Z') });
const html = report.html;

function chartData(page: string): ChartSpec[] {
  const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(page)![1]!;
  return (JSON.parse(json) as { charts: ChartSpec[] }).charts;
}
const charts = chartData(html);
const byId = (id: string): ChartSpec => charts.find((c) => c.id === id) ?? assert.fail(`no chart ${id}`);

test('escapeHtml and scriptJson', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const json = scriptJson({ s: '</script><!-- \u2028' });
  assert.ok(!json.includes('<'), json);
  assert.deepEqual(JSON.parse(json), { s: '</script><!-- \u2028' });
});

test('run names, paths, titles and labels from outside are escaped everywhere', () => {
  assert.ok(!html.includes('<i id=pwn>'), 'no raw markup from a name');
  assert.ok(html.includes(escapeHtml(`bp ${HOSTILE}`)), 'the run name, escaped');
  assert.match(html, /<title>Report of &lt;i id=pwn&gt;&amp;&quot;&#39;<\/title>/);
  assert.ok(html.includes(escapeHtml(dirs.bp)), 'the run directory, escaped');
  assert.ok(html.includes('Test CPU &lt;model&gt;'), 'machine strings, escaped');
  // exactly the page's three scripts: the data block cannot be closed early by a label
  assert.equal(html.match(/<\/script>/g)!.length, 3);
  const tsne = charts.filter((c) => c.kind === 'scatter').map((c) => c.title);
  assert.ok(tsne.some((t) => t.startsWith(HOSTILE_LAYER)), 'the data block keeps the raw label (the page script sets it as text)');
  assert.ok(byId('test-accuracy').series[0]!.label.includes(HOSTILE));
});

test('self-contained: Chart.js inline, nothing to fetch', () => {
  assert.ok(html.includes(library.source), 'the whole bundle inline');
  assert.match(library.version, /^4\.\d+\.\d+/);
  // the page around the bundle (whose code mentions URLs it never loads here)
  assert.doesNotMatch(html.replace(library.source, ''), /<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|url\(/i);
});

test('every section is present and fed with data', () => {
  for (const id of ['runs', 'curves', 'layers', 'tsne', 'distances', 'exits', 'pipeline', 'environment']) assert.match(html, new RegExp(`<section id="${id}">`));
  assert.ok(!html.includes('class="none"'), 'no section is empty');
  const ids = charts.map((c) => c.id);
  assert.deepEqual(ids, ['test-accuracy', 'train-accuracy', 'loss-0', 'loss-1', 'loss-2', 'loss-3', 'throughput', 'layer-losses-1',
    'tsne-0-0', 'tsne-0-1', 'tsne-1-0', 'tsne-1-1', 'exit-accuracy', 'utilisation-1', 'utilisation-2', 'utilisation-3']);
  assert.equal(report.charts, ids.length);
  for (const c of charts) {
    assert.ok(pointCount(c) > 0, `${c.id} has data`);
    assert.equal(html.split(`data-chart="${c.id}"`).length - 1, 1, `one container for ${c.id}`);
  }
});

test('curves: test accuracy of every run on one chart, training accuracy only where recorded', () => {
  const acc = byId('test-accuracy');
  assert.equal(acc.series.length, 4);
  acc.series.forEach((s, run) => assert.deepEqual(s.xy, [1, 2, 3].flatMap((e) => [e, Number((100 * testAccuracy(run, e)).toPrecision(6))])));
  // pipelined AL makes no predictions while training: its null training accuracies leave it out
  assert.deepEqual(byId('train-accuracy').series.map((s) => s.label.split(' (')[1]), ['bp)', 'gpipe)', 'naive-pipeline)']);
  assert.deepEqual(byId('loss-1').series[0]!.xy, [1, 2, 2, 1, 3, Number((2 / 3).toPrecision(6))]);
  assert.equal(byId('loss-1').y.log, true);
});

test('per-layer losses: associated and autoencoder per AL layer on a log axis, and the depth table', () => {
  const c = byId('layer-losses-1');
  assert.equal(c.y.log, true);
  assert.deepEqual(c.series.map((s) => [s.label, s.dashed === true]), [1, 2, 3].flatMap((k) => [[`layer ${k} associated`, false], [`layer ${k} autoencoder`, true]]));
  assert.deepEqual(c.series[2]!.xy, [1, 1e-2, 2, 1e-4, 3, 1e-6]);
  // layer 1 / layer 3 at epoch 3: 1e-3 / 1e-9
  assert.match(html, /associated loss of layer 1 \/ layer 3: 1\.00e\+6× \(6\.0 orders of magnitude\)/);
});

test('per-layer code measures: the normalised loss and the nearest-code accuracy of each layer; AL runs only', () => {
  assert.match(html, /<th[^>]*>normalised<\/th><th[^>]*>nearest-code accuracy<\/th>/);
  // layer 3: associated 1e-6 over a spread of 1e-3
  assert.match(html, /<td>3<\/td><td[^>]*>1\.000e-6<\/td><td[^>]*>1\.000e-3<\/td><td[^>]*>1\.000e-3<\/td><td[^>]*>25\.00%<\/td>/);
});

test('stale gradients: the naive pipeline\'s last test accuracy against BP and GPipe on the same network', () => {
  // last epoch (3): naive (run 3) 83 %, BP (run 0) 80 %, GPipe (run 2) 82 %
  assert.equal([testAccuracy(3, 3), testAccuracy(0, 3), testAccuracy(2, 3)].map((x) => x.toFixed(2)).join(), '0.83,0.80,0.82');
  assert.match(html, /<caption>Stale gradients: the naive pipeline&#39;s last test accuracy/);
  assert.ok(html.includes(`<td>naive (naive-pipeline)</td><td class="num">83.00%</td><td>${escapeHtml(`bp ${HOSTILE} (bp)`)}</td><td class="num">80.00%</td><td class="num">+3.00 points</td>`));
  assert.ok(html.includes('<td>naive (naive-pipeline)</td><td class="num">83.00%</td><td>gpipe (gpipe)</td><td class="num">82.00%</td><td class="num">+1.00 points</td>'));
});

test('t-SNE: one column per run, side by side, a series per class', () => {
  assert.match(html, /<div class="columns" style="--columns: 2">/);
  const t = byId('tsne-1-0');
  assert.equal(t.kind, 'scatter');
  assert.deepEqual(t.series.map((s) => s.label), ['class 0', 'class 1', 'class 2']);
  assert.equal(pointCount(t), 90);
  const raw = JSON.parse(readFileSync(join(dirs.al, 'analysis.json'), 'utf8')) as { tsne: { layers: { points: number[] }[] } };
  assert.deepEqual(t.series[1]!.xy!.slice(0, 2), raw.tsne.layers[0]!.points.slice(2, 4).map((x) => Number(x.toPrecision(6))), 'point 1 is class 1');
  assert.ok(html.indexOf('bp &lt;i id=pwn&gt;') < html.indexOf('al (al, pipelined)</h3>'), 'BP column first, as the runs were given');
});

test('class distances: a table per run, each t_k after its b_k', () => {
  const table = html.slice(html.indexOf('<section id="distances">'), html.indexOf('<section id="exits">'));
  const names = [...table.matchAll(/<tr><td>([^<]+)<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(names, ['x (input)', '1 Linear+ReLU', 'x (input)', 's1', 'b1(s1)', 't1 (targets)', 's2', 'b2(s2)', 't2 (targets)']);
  assert.match(table, /<td>s2<\/td><td class="num">32<\/td><td class="num">13\.000<\/td><td class="num">7\.000<\/td><td class="num">1\.857<\/td>/);
});

test('exit accuracy: a bar per exit layer', () => {
  const c = byId('exit-accuracy');
  assert.deepEqual(c.categories, ['exit 1', 'exit 2', 'exit 3']);
  assert.deepEqual(c.series.map((s) => s.values), [[81, 83, 84]]);
  assert.match(html, /<td>exit 3<\/td><td class="num">84\.00%<\/td>/);
});

test('pipeline: measured and simulated Gantt charts inline, utilisation beside the simulated', () => {
  assert.equal(report.gantt, 6);
  assert.equal(html.match(/<svg /g)!.length, 6);
  assert.ok(!html.includes('<?xml'), 'no XML prolog inside HTML');
  const pairs = [...html.matchAll(/<div class="gantt" data-gantt="(measured|simulated)">(.*?)<\/svg>\s*<\/div>/gs)].map((m) => ({ kind: m[1], svg: m[2]! }));
  assert.deepEqual(pairs.map((p) => p.kind), ['measured', 'simulated', 'measured', 'simulated', 'measured', 'simulated']);
  const rects = (svg: string): number => svg.split('<rect class="interval"').length - 1;
  // AL: the last epoch's 4 batches on 3 stages, measured and simulated (the slides' 6 units)
  assert.equal(rects(pairs[0]!.svg), 12);
  assert.equal(rects(pairs[1]!.svg), 12);
  assert.match(pairs[0]!.svg, /measured: al, AL on 3 worker threads, epoch 3, batches 9–12 of 12/);
  assert.match(pairs[1]!.svg, /simulated: al, 3 layers on 3 stages, 4 batches: 6 units/);
  // GPipe, 2 stages, 2 micro-batches: per mini-batch 2·2 forwards + 2·2 backwards + 2 updates
  assert.match(pairs[3]!.svg, /simulated: gpipe, 2 layers on 2 stages, 4 batches/);
  assert.equal(rects(pairs[3]!.svg), 4 * 10);
  assert.match(pairs[5]!.svg, /simulated: naive, 1 hidden \+ output layer on 4 stages/);
  const al = byId('utilisation-1');
  assert.deepEqual(al.categories, ['S1 (AL 1)', 'S2 (AL 2)', 'S3 (AL 3)']);
  assert.deepEqual(al.series.map((s) => s.label), ['measured, whole trace', 'measured, inside the epochs', 'measured, epoch 3 (metrics.jsonl)', 'simulated (unit steps)']);
  assert.deepEqual(al.series[2]!.values, [80, 70, 60]);
  // the naive schedule has a row per forward and backward: its utilisation is not comparable stage by stage
  assert.equal(byId('utilisation-3').series.length, 3);
  assert.deepEqual(byId('utilisation-2').categories, ['S1 (modules 0–3)', 'S2 (modules 4–6)']);
  assert.match(html, /staleness 0\.25 updates per batch/);
  assert.match(html, /measured 1,500 samples\/s on 3 stages vs 1,600 projected \(-6\.3%\)/);
});

test('a long trace: each Gantt chart draws at most MAX_CHART_INTERVALS intervals, from the last epoch', () => {
  // GPipe, 2 stages, 4 micro-batches: 2·(4 + 4 + 1) = 18 intervals per batch, 2 epochs of 600 batches
  const intervals = [];
  for (let batch = 0; batch < 1200; batch++) {
    for (let stage = 0; stage < 2; stage++) {
      for (let k = 0; k < 9; k++) intervals.push({ stage, batch, kind: k < 4 ? 'forward' : k < 8 ? 'backward' : 'update', start: 20 * batch + 2 * k, end: 20 * batch + 2 * k + 1 });
    }
  }
  const trace = parseRunTrace(JSON.stringify({ method: 'gpipe', stages: [{ stage: 0, modules: [0, 1] }, { stage: 1, modules: [2] }], intervals }), 'trace.json');
  const records = [1, 2].map((epoch) => ({ epoch, samplesPerSec: 600, seconds: 10, testAccuracy: 0.5 }));
  const view = pipelineView({ dir: 'long', name: 'long', config: { batch: 10, microBatches: 4 }, metrics: records, trace, analysis: null }, 0);
  const rects = (svg: string): number => svg.split('<rect class="interval"').length - 1;
  const batchesShown = Math.floor(MAX_CHART_INTERVALS / 18);
  assert.equal(rects(view.measuredSvg), 18 * batchesShown);
  assert.match(view.shown, new RegExp(`^epoch 2, batches 601–${600 + batchesShown} of 1200$`));
  assert.equal(view.simulated.batches, batchesShown);
  assert.ok(rects(view.simulatedSvg) <= MAX_CHART_INTERVALS);
  assert.equal(rects(view.simulatedSvg), 18 * batchesShown);
});

test('environment: settings and machine per run, and the tools that made the page', () => {
  const env = html.slice(html.indexOf('<section id="environment">'));
  assert.match(env, /<tr><td>micro-batches<\/td><td>—<\/td><td>—<\/td><td>2<\/td><td>—<\/td><\/tr>/);
  assert.match(env, /<tr><td>ISA<\/td>(<td>avx2<\/td>){4}<\/tr>/);
  assert.match(env, /Report made 2025-01-02T03:04:05\.000Z with associated-learning 0\.0\.0, Chart\.js 4\./);
});

test('a run without trace or analysis: its sections say how to get them', () => {
  const only = buildReport(loadRuns([dirs.bp]).map((r) => ({ ...r, analysis: null })), { library });
  for (const hint of ['al analyze RUN_DIR --tsne', 'al analyze RUN_DIR --distance-ratio', 'al analyze RUN_DIR --exit-accuracy', '--pipeline --trace writes trace.json', 'al train --method al']) {
    assert.ok(only.html.includes(hint), hint);
  }
  assert.deepEqual(chartData(only.html).map((c) => c.id), ['test-accuracy', 'train-accuracy', 'loss-0', 'throughput']);
});

test('bad run directories: the message names the directory, the file and the key', () => {
  const bad = tempDir('al-report-bad-');
  try {
    assert.throws(() => loadRun(join(bad, 'nope')), /nope: cannot read the run directory \(ENOENT\)/);
    assert.throws(() => loadRun(bad), new RegExp(`${bad}/config.json: cannot read the run's settings \\(ENOENT\\)`));
    writeFileSync(join(bad, 'config.json'), '{"method": "bp"}');
    assert.throws(() => loadRun(bad), /metrics\.jsonl: cannot read the per-epoch metrics \(ENOENT\)/);
    writeFileSync(join(bad, 'metrics.jsonl'), '{"epoch": 1}\n');
    assert.throws(() => loadRun(bad), /metrics\.jsonl:1: expected a number in 'samplesPerSec'/);
    writeFileSync(join(bad, 'metrics.jsonl'), readFileSync(join(dirs.bp, 'metrics.jsonl')));
    writeFileSync(join(bad, 'analysis.json'), '{"tsne": {"layers": [{"name": "s1", "points": [1, 2, 3], "labels": [0, 1]}]}}');
    assert.throws(() => loadRun(bad), /analysis\.json: 'tsne\.layers\[0\]': expected 2 coordinates per label, got 3 coordinates for 2 labels/);
    writeFileSync(join(bad, 'analysis.json'), '{"exitAccuracy": {"1": 0.9}}');
    assert.throws(() => loadRun(bad), /analysis\.json: 'exitAccuracy': expected a list of \{exit, testAccuracy\}/);
    writeFileSync(join(bad, 'analysis.json'), '{"layerCodes": {"rows": [{"layer": 1, "associated": "x"}]}}');
    assert.throws(() => loadRun(bad), /analysis\.json: 'layerCodes': expected \{rows: \[\{layer, associated, spread, normalised, nearestCodeAccuracy\}\]\}/);
    writeFileSync(join(bad, 'analysis.json'), 'not json');
    assert.throws(() => loadRun(bad), /analysis\.json: not JSON/);
    rmSync(join(bad, 'analysis.json'));
    writeFileSync(join(bad, 'trace.json'), '{"stages": [{"stage": 0, "modules": [0]}], "intervals": [{"stage": 1, "batch": 0, "kind": "forward", "start": 0, "end": 1}]}');
    assert.throws(() => loadRun(bad), /trace\.json: intervals\[0\]: expected \{stage: 0\.\.0/);
    assert.throws(() => loadRuns([dirs.bp, `${dirs.bp}/`]), /given twice/);
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
});
