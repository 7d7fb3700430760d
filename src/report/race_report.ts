// The report of `al reproduce time-to-accuracy`: per benchmark (network and dataset), each
// configuration's time to the target test accuracy on its run's training clock, its ratio to BP's,
// and a chart of test accuracy against that clock (one SVG per benchmark, inline in report.html
// and as its own file). Every figure comes from the runs' evals.jsonl.
import { firstCrossing, type Crossing } from '../analysis/time_to_accuracy.js';
import type { EvalRecord } from '../train/eval_schedule.js';
import { colour } from './charts.js';
import { escapeHtml, htmlTable } from './html.js';
import { lineChartSvg } from './line_svg.js';
import { PAGE_STYLE } from './style.js';

export interface RaceRun {
  benchmark: string;
  /** the configuration's name (bp, gpipe, al-wide, …) */
  config: string;
  /** what it is, in words */
  label: string;
  runDir: string;
  /** the benchmark's target, a fraction */
  target: number;
  records: readonly EvalRecord[];
  /** multiply-adds of one training sample (the run's config.json), when known */
  trainMacsPerSample?: number | undefined;
}

export interface RaceRow {
  benchmark: string;
  config: string;
  label: string;
  runDir: string;
  target: number;
  crossing: Crossing | null;
  /** crossing time over BP's on the same benchmark (null: either did not reach it, or no BP run) */
  ratioToBp: number | null;
  /** start-up: the training clock when the first step began */
  startSeconds: number;
  /** evaluation time left out of the clock, and settle time counted in it, up to the crossing (or the last evaluation) */
  evalSeconds: number;
  settleSeconds: number;
  evaluations: number;
  bestAccuracy: number;
  /** the training clock at the last evaluation: how long the run went on */
  lastSeconds: number;
  trainMacsPerSample: number | null;
}

export function raceRows(runs: readonly RaceRun[]): RaceRow[] {
  const rows = runs.map((r): RaceRow => {
    const crossing = firstCrossing(r.records, r.target);
    const upTo = crossing ? r.records.find((x) => x.step === crossing.step && x.seconds === crossing.seconds)! : r.records[r.records.length - 1];
    return {
      benchmark: r.benchmark, config: r.config, label: r.label, runDir: r.runDir, target: r.target, crossing, ratioToBp: null,
      startSeconds: r.records[0]?.startSeconds ?? 0, evalSeconds: upTo?.evalSeconds ?? 0, settleSeconds: upTo?.settleSeconds ?? 0,
      evaluations: upTo ? r.records.indexOf(upTo) + 1 : 0,
      bestAccuracy: r.records.length === 0 ? Number.NaN : Math.max(...r.records.map((x) => x.testAccuracy)),
      lastSeconds: r.records[r.records.length - 1]?.seconds ?? 0,
      trainMacsPerSample: r.trainMacsPerSample ?? null,
    };
  });
  for (const row of rows) {
    const bp = rows.find((x) => x.benchmark === row.benchmark && x.config === 'bp');
    if (row.crossing && bp?.crossing) row.ratioToBp = row.crossing.seconds / bp.crossing.seconds;
  }
  return rows;
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(2)}%`);
const secs = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(1)} s`);

export const RACE_HEADER = ['benchmark', 'configuration', 'target', 'time to target', '× BP', 'previous evaluation', 'step (epoch)', 'start-up', 'settling (counted)', 'evaluations (left out)', 'best test acc', 'MACs a sample', 'run directory'];

/** The table's cells, one row per run, as text. */
export function raceCells(rows: readonly RaceRow[]): string[][] {
  return rows.map((r) => [
    r.benchmark, r.config, pct(r.target),
    r.crossing ? secs(r.crossing.seconds) : `not in ${secs(r.lastSeconds)}`,
    r.ratioToBp === null ? '—' : r.ratioToBp.toFixed(2),
    r.crossing ? secs(r.crossing.before) : '—',
    r.crossing ? `${r.crossing.step} (${r.crossing.epoch})` : '—',
    secs(r.startSeconds), secs(r.settleSeconds), `${r.evaluations}, ${secs(r.evalSeconds)}`, pct(r.bestAccuracy),
    r.trainMacsPerSample === null ? '—' : `${(r.trainMacsPerSample / 1e6).toFixed(1)} M`, r.runDir,
  ]);
}

/** What the columns mean, for the text and the page. */
export const RACE_NOTES = [
  'time to target: the training clock of the first evaluation at or above the target (first crossing, no interpolation):',
  'seconds since the run\'s al train command started (start-up counts), test evaluations left out; previous evaluation:',
  'the clock of the evaluation before it, so the crossing lies between the two. Settling: the wait of a pipelined method',
  'for a consistent model to evaluate (AL: the stages\' snapshots; BP: a drain), counted in its clock. × BP: time over',
  'BP\'s on the same benchmark. MACs a sample: the multiply-adds of one training sample, forward and backward of',
  'everything that trains.',
];

/** Accuracy against the training clock for the runs of one benchmark. */
export function raceSvg(title: string, runs: readonly RaceRun[]): string {
  const target = 100 * (runs[0]?.target ?? 1);
  const accuracies = runs.flatMap((r) => r.records.map((x) => 100 * x.testAccuracy));
  const series = runs.map((r, i) => {
    const crossing = firstCrossing(r.records, r.target);
    return {
      label: `${r.config}: ${r.label}`, colour: colour(i),
      points: r.records.map((x) => [x.seconds, 100 * x.testAccuracy] as const),
      marker: crossing ? [crossing.seconds, 100 * crossing.testAccuracy] as const : undefined,
    };
  });
  return lineChartSvg(series, {
    title: `${title}: test accuracy against the training clock`,
    subtitle: `seconds since each run's command started, test evaluations left out; dots: first evaluation at or above ${target.toFixed(2)}%`,
    xLabel: 'training clock (s)', yLabel: 'test accuracy (%)',
    yMin: Math.max(0, Math.floor(target - 6)), yMax: Math.min(100, Math.ceil(Math.max(target, ...accuracies) + 0.5)),
    reference: { y: target, label: `target ${target.toFixed(2)}%` }, clipId: `plot-${runs[0]?.benchmark ?? 'race'}`,
  });
}

/** The page: one section per benchmark with its chart, then the table of every run. */
export function raceHtml(rows: readonly RaceRow[], charts: readonly { benchmark: string; title: string; svg: string }[], now = new Date()): string {
  const e = escapeHtml;
  return [
    '<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', '<title>Time to accuracy</title>', `<style>${PAGE_STYLE}</style>`, '</head>', '<body>',
    '<header><h1>Time to accuracy: BP, GPipe, sequential and pipelined AL</h1></header>', '<main>',
    '<section id="table"><h2>Time to the target</h2>',
    htmlTable(RACE_HEADER, raceCells(rows), { numeric: [2, 3, 4, 5, 7, 8, 10, 11] }),
    `<p class="note">${e(RACE_NOTES.join(' '))}</p></section>`,
    ...charts.map((c) => `<section id="chart-${e(c.benchmark)}"><h2>${e(c.title)}</h2>\n<div class="gantt">${c.svg.replace(/^<\?xml[^>]*>\n/, '')}</div></section>`),
    `<p class="note">Made ${e(now.toISOString())} by al reproduce time-to-accuracy.</p>`,
    '</main>', '</body>', '</html>',
  ].join('\n') + '\n';
}
