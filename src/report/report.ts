// `al report`'s page: one self-contained HTML file (Chart.js, the data and the Gantt SVGs all
// inline, nothing fetched) with a section per analysis. A section whose data no run has says
// which command produces it instead of disappearing, so a reader knows what is missing and why.
import { reportCharts, depthRatios, runLabel, type ChartSpec } from './charts.js';
import type { ChartLibrary } from './chart_library.js';
import { distance, escapeHtml, fixed, htmlTable, percent, scientific, scriptJson, whole } from './html.js';
import { PAGE_SCRIPT } from './page_script.js';
import { pipelineView, type PipelineView } from './pipeline_section.js';
import type { ReportRun } from './run_files.js';
import { PAGE_STYLE } from './style.js';

export interface ReportOptions {
  title?: string;
  library: ChartLibrary;
  /** shown in the environment section: the tools that made the page */
  versions?: Record<string, string>;
  /** when the page was made (default now) */
  now?: Date;
}

export interface Report {
  html: string;
  /** charts the page's script draws, and Gantt charts inline */
  charts: number;
  gantt: number;
}

const e = escapeHtml;

function chartBox(spec: ChartSpec): string {
  return `<figure class="chart${spec.kind === 'scatter' ? ' square' : ''}" data-chart="${e(spec.id)}"><canvas role="img" aria-label="${e(spec.title)}"></canvas></figure>`;
}

function none(text: string): string {
  return `<p class="none">${e(text)}</p>`;
}

function section(id: string, title: string, body: string[]): string {
  return `<section id="${id}">\n<h2>${e(title)}</h2>\n${body.join('\n')}\n</section>`;
}

// ***** sections *****

function summary(runs: readonly ReportRun[]): string {
  const rows = runs.map((r) => {
    const last = r.metrics[r.metrics.length - 1]!;
    const best = Math.max(...r.metrics.map((m) => m.testAccuracy));
    const c = r.config;
    return [runLabel(r), r.dir, String(c['model'] ?? '—'), String(c['dataset'] ?? '—'), `${last.epoch} of ${String(c['epochs'] ?? '?')}`,
      percent(last.testAccuracy), percent(best), whole(last.samplesPerSec), fixed(r.metrics.reduce((s, m) => s + m.seconds, 0), 1)];
  });
  return section('runs', 'Runs', [htmlTable(['run', 'directory', 'model', 'dataset', 'epochs', 'test accuracy (last)', 'test accuracy (best)', 'samples/s (last epoch)', 'training s'], rows, { numeric: [5, 6, 7, 8] })]);
}

function grid(charts: readonly ChartSpec[]): string {
  return `<div class="grid">\n${charts.map(chartBox).join('\n')}\n</div>`;
}

function layersSection(runs: readonly ReportRun[], charts: readonly ChartSpec[]): string {
  const mine = charts.filter((c) => c.section === 'layers');
  if (mine.length === 0) return section('layers', 'Per-layer losses', [none('No AL run: per-layer associated and autoencoder losses are recorded by al train --method al.')]);
  const tables = depthRatios(runs).map(({ run, table }) => {
    const rows = table.rows.map((r) => [`${r.layer}`, scientific(r.first.associatedLoss), scientific(r.last.associatedLoss), scientific(r.first.autoencoderLoss), scientific(r.last.autoencoderLoss)]);
    const ratio = table.depthRatio === null ? '' : `; associated loss of layer 1 / layer ${table.rows.length}: ${table.depthRatio.toPrecision(3)}× (${fixed(table.depthOrders, 1)} orders of magnitude)`;
    return htmlTable(['AL layer', `associated, epoch ${table.firstEpoch}`, `associated, epoch ${table.lastEpoch}`, `autoencoder, epoch ${table.firstEpoch}`, `autoencoder, epoch ${table.lastEpoch}`],
      rows, { numeric: [1, 2, 3, 4], caption: `${runLabel(run)}${ratio}` });
  });
  const codes = runs.filter((r) => r.analysis?.layerCodes).map((r) => {
    const c = r.analysis!.layerCodes!;
    const rows = c.rows.map((x) => [`${x.layer}`, scientific(x.associated), scientific(x.spread), x.normalised === null ? '—' : scientific(x.normalised), percent(x.nearestCodeAccuracy)]);
    return htmlTable(['AL layer', 'associated (test)', 'code spread', 'normalised', 'nearest-code accuracy'], rows,
      { numeric: [1, 2, 3, 4], caption: `${runLabel(r)}${c.samples === undefined ? '' : ` (${c.samples} test samples)`}` });
  });
  return section('layers', 'Per-layer losses', [
    '<p>Each AL layer\'s associated loss ‖b<sub>i</sub>(s<sub>i</sub>) − t<sub>i</sub>‖² and autoencoder loss ‖h<sub>i</sub>(t<sub>i</sub>) − t<sub>i−1</sub>‖², the mean over each epoch\'s batches.</p>',
    grid(mine), ...tables,
    ...(codes.length === 0
      ? [none('No run has class-code measures: al analyze RUN_DIR --layer-codes adds them (AL runs).')]
      : ['<p>The raw loss scales with how far apart the class codes t<sub>i</sub>(c) lie, which changes with depth. Code spread: mean over pairs of distinct classes of mean((t<sub>i</sub>(c) − t<sub>i</sub>(c′))²); normalised = associated / code spread (0 = on its class code, about 1 = as far from it as codes are from each other); nearest-code accuracy: how often b<sub>i</sub>(s<sub>i</sub>) is nearest to its own class\'s code.</p>',
        '<div class="tables">', ...codes, '</div>']),
  ]);
}

function tsneSection(runs: readonly ReportRun[], charts: readonly ChartSpec[]): string {
  const columns = runs.map((r, i) => ({ r, charts: charts.filter((c) => c.section === `tsne-${i}`) })).filter((c) => c.charts.length > 0);
  if (columns.length === 0) return section('tsne', 't-SNE', [none('No run has a t-SNE: al analyze RUN_DIR --tsne --json > RUN_DIR/analysis.json adds one.')]);
  const body = columns.map(({ r, charts: mine }) => {
    const t = r.analysis!.tsne!;
    const about = [t.samples === undefined ? null : `${t.samples} test samples`, t.perplexity === undefined ? null : `perplexity ${t.perplexity}`].filter((x) => x !== null).join(', ');
    return `<div class="column">\n<h3>${e(runLabel(r))}</h3>\n${about ? `<p class="note">${e(about)}; colour = class</p>\n` : ''}${mine.map(chartBox).join('\n')}\n</div>`;
  });
  return section('tsne', 't-SNE', [`<div class="columns" style="--columns: ${columns.length}">`, ...body, '</div>']);
}

function distanceSection(runs: readonly ReportRun[]): string {
  const withDistances = runs.filter((r) => r.analysis?.distanceRatio);
  if (withDistances.length === 0) return section('distances', 'Class distances', [none('No run has class distances: al analyze RUN_DIR --distance-ratio --json > RUN_DIR/analysis.json adds them.')]);
  const tables = withDistances.map((r) => {
    const d = r.analysis!.distanceRatio!;
    const rows = d.rows.map((x) => [x.name, `${x.features}`, distance(x.inter), distance(x.intra), distance(x.ratio)]);
    // t_k after b_k(s_k): the target the bridge is pulled towards
    for (const t of d.targets) {
      const at = rows.findIndex((x) => x[0]!.startsWith(`b${t.name.slice(1)}(`));
      rows.splice(at < 0 ? rows.length : at + 1, 0, [`${t.name} (targets)`, `${t.features}`, distance(t.inter), '0', '—']);
    }
    const about = [d.samples === undefined ? null : `${d.samples} test samples`, d.seed === undefined ? null : `seed ${d.seed}`].filter((x) => x !== null).join(', ');
    return htmlTable(['representation', 'features', 'inter', 'intra', 'ratio'], rows, { numeric: [1, 2, 3, 4], caption: `${runLabel(r)}${about ? ` (${about})` : ''}` });
  });
  return section('distances', 'Class distances', [
    '<p>intra = mean over classes of the mean distance of a class\'s points to its centroid; inter = mean distance between class centroids; ratio = inter / intra (higher = better separated).</p>',
    '<div class="tables">', ...tables, '</div>',
  ]);
}

function exitSection(charts: readonly ChartSpec[]): string {
  const chart = charts.find((c) => c.section === 'exits');
  if (!chart) return section('exits', 'Accuracy by exit layer', [none('No run has exit accuracies: al analyze RUN_DIR --exit-accuracy --json > RUN_DIR/analysis.json adds them (AL runs).')]);
  const rows = chart.categories!.map((c, k) => [c, ...chart.series.map((s) => (s.values![k] === null ? '—' : `${s.values![k]!.toFixed(2)}%`))]);
  return section('exits', 'Accuracy by exit layer', [
    '<p>Test accuracy predicting from AL layer k: h<sub>1</sub>(…h<sub>k</sub>(b<sub>k</sub>(s<sub>k</sub>))).</p>',
    grid([chart]), htmlTable(['exit layer', ...chart.series.map((s) => s.label)], rows, { numeric: chart.series.map((_, i) => i + 1) }),
  ]);
}

function pipelineBlock(v: PipelineView): string {
  const b = v.bubble;
  const facts = [`bubble: measured ${percent(b.measured, 1)} over the whole trace`, b.inEpochs === null ? null : `${percent(b.inEpochs, 1)} inside the epochs`,
    `simulated ${percent(b.simulated, 1)}`, v.staleness === null ? null : `staleness ${fixed(v.staleness, 2)} updates per batch (last epoch)`].filter((x) => x !== null).join('; ');
  const projection = v.run.analysis?.timeline?.projection;
  const m = projection?.measured;
  const table = projection
    ? `<div><p class="note">${e(`Throughput of pipelined AL projected from the measured step times${m ? `; measured ${whole(m.samplesPerSec)} samples/s on ${m.stages} stages vs ${whole(m.projected)} projected (${(100 * m.deviation).toFixed(1)}%)` : ''}`)}</p>\n` +
      `${htmlTable(['devices', 'projected samples/s', 'ms per batch'], projection.rows.map((r) => [`${r.devices}`, whole(r.samplesPerSec), fixed(r.msPerBatch, 2)]), { numeric: [1, 2] })}</div>`
    : '';
  return [
    `<h3>${e(runLabel(v.run))}</h3>`, `<p class="note">${e(facts)}</p>`,
    `<div class="gantt-pair"><div class="gantt" data-gantt="measured">${v.measuredSvg}</div><div class="gantt" data-gantt="simulated">${v.simulatedSvg}</div></div>`,
    `<div class="tables"><div class="single">${chartBox(v.chart)}</div>${table}</div>`,
  ].join('\n');
}

/**
 * What stale gradients cost: each naive-pipeline run's last test accuracy against the BP and
 * GPipe runs of the same model and dataset among `runs`.
 */
function staleGradientTable(runs: readonly ReportRun[]): string | null {
  const last = (r: ReportRun): number => r.metrics[r.metrics.length - 1]!.testAccuracy;
  const same = (a: ReportRun, b: ReportRun): boolean => a.config['model'] === b.config['model'] && a.config['dataset'] === b.config['dataset'];
  const rows = runs.filter((r) => r.config['method'] === 'naive-pipeline').flatMap((naive) =>
    runs.filter((r) => (r.config['method'] === 'bp' || r.config['method'] === 'gpipe') && same(r, naive)).map((r) => {
      const points = 100 * (last(naive) - last(r));
      return [runLabel(naive), percent(last(naive)), runLabel(r), percent(last(r)), `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(2)} points`];
    }));
  if (rows.length === 0) return null;
  return htmlTable(['naive pipeline', 'test accuracy', 'against', 'its test accuracy', 'naive − it'], rows,
    { numeric: [1, 3, 4], caption: 'Stale gradients: the naive pipeline\'s last test accuracy against the exact methods on the same network' });
}

function pipelineSection(views: readonly PipelineView[], runs: readonly ReportRun[]): string {
  if (views.length === 0) return section('pipeline', 'Pipeline timelines', [none('No run has a trace: al train … --pipeline --trace writes trace.json.')]);
  const stale = staleGradientTable(runs);
  return section('pipeline', 'Pipeline timelines', [
    '<p>Left: the busy intervals each worker thread recorded (trace.json). Right: the unit-time schedule of the authors\' slides for the same method on as many stages and batches, every step one time unit.</p>',
    ...(stale ? [stale] : []),
    ...views.map(pipelineBlock),
  ]);
}

const SETTINGS: [string, string][] = [
  ['model', 'model'], ['dataset', 'dataset'], ['label', 'labels'], ['method', 'method'], ['pipeline', 'pipelined'], ['workers', 'stages'],
  ['microBatches', 'micro-batches'], ['alLayers', 'AL layers'], ['alCut', 'units per AL layer'], ['tWidth', 't width'], ['epochs', 'epochs'], ['batch', 'batch'],
  ['optimizer', 'optimizer'], ['lr', 'learning rate'], ['targetLr', 'target learning rate'], ['weightDecay', 'weight decay'], ['schedule', 'lr schedule'],
  ['seed', 'seed'], ['limit', 'training samples (limit)'], ['augment', 'augmentation'], ['parameters', 'parameters'],
];
const MACHINE: [string, string][] = [['cpu', 'CPU'], ['cores', 'cores'], ['isa', 'ISA'], ['threads', 'threads'], ['node', 'Node.js'], ['backend', 'backend'], ['onednn', 'oneDNN']];

function environmentSection(runs: readonly ReportRun[], options: ReportOptions, now: Date): string {
  const text = (v: unknown): string => (v === undefined || v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const machine = (r: ReportRun): Record<string, unknown> => (typeof r.config['machine'] === 'object' && r.config['machine'] !== null ? r.config['machine'] as Record<string, unknown> : {});
  const rows = [
    ...SETTINGS.filter(([k]) => runs.some((r) => r.config[k] !== undefined)).map(([k, label]) => [label, ...runs.map((r) => text(r.config[k]))]),
    ...MACHINE.filter(([k]) => runs.some((r) => machine(r)[k] !== undefined)).map(([k, label]) => [label, ...runs.map((r) => text(machine(r)[k]))]),
  ];
  const tools = { ...(options.versions ?? {}), [options.library.name]: options.library.version };
  return section('environment', 'Environment', [
    htmlTable(['setting', ...runs.map((r) => r.name)], rows, { caption: 'Settings and machine of each run (config.json)' }),
    `<p class="note">Report made ${e(now.toISOString())} with ${e(Object.entries(tools).map(([k, v]) => `${k} ${v}`).join(', '))}.</p>`,
  ]);
}

// ***** the page *****

export function buildReport(runs: readonly ReportRun[], options: ReportOptions): Report {
  if (runs.length === 0) throw new RangeError('buildReport: expected at least one run');
  const now = options.now ?? new Date();
  const title = options.title ?? `Associated Learning report: ${runs.map((r) => r.name).join(', ')}`;
  const charts = reportCharts(runs);
  const views = runs.map((r, i) => (r.trace ? pipelineView(r, i) : null)).filter((v): v is PipelineView => v !== null);
  const all = [...charts, ...views.map((v) => v.chart)];
  const toc = [['runs', 'Runs'], ['curves', 'Loss and accuracy'], ['layers', 'Per-layer losses'], ['tsne', 't-SNE'], ['distances', 'Class distances'],
    ['exits', 'Exit accuracy'], ['pipeline', 'Pipeline timelines'], ['environment', 'Environment']];
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(title)}</title>`,
    `<style>${PAGE_STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${e(title)}</h1><nav>${toc.map(([id, name]) => `<a href="#${id}">${e(name!)}</a>`).join(' · ')}</nav></header>`,
    '<main>',
    summary(runs),
    section('curves', 'Loss and accuracy', [grid(charts.filter((c) => c.section === 'curves'))]),
    layersSection(runs, charts),
    tsneSection(runs, charts),
    distanceSection(runs),
    exitSection(charts),
    pipelineSection(views, runs),
    environmentSection(runs, options, now),
    '</main>',
    `<script type="application/json" id="report-data">${scriptJson({ charts: all })}</script>`,
    `<script>${options.library.source}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body>',
    '</html>',
  ].join('\n') + '\n';
  return { html, charts: all.length, gantt: 2 * views.length };
}
