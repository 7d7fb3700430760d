// The race's report: each run's time to its target, the ratio to BP's on the same benchmark, and
// the chart of accuracy against the clock (a polyline per run, a dot at its first crossing).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineChartSvg, niceStep } from '../../../src/report/line_svg.js';
import { raceCells, raceHtml, raceRows, raceSvg, type RaceRun } from '../../../src/report/race_report.js';
import type { EvalRecord } from '../../../src/train/eval_schedule.js';

function run(benchmark: string, config: string, points: [number, number][], extra: Partial<EvalRecord> = {}): RaceRun {
  return {
    benchmark, config, label: `${config} label`, runDir: `/runs/${benchmark}/${config}`, target: 0.9,
    records: points.map(([seconds, testAccuracy], i) => ({
      step: 10 * (i + 1), epoch: 1, samples: 0, seconds, wallSeconds: seconds + i, testAccuracy, evalSeconds: i + 1, settleSeconds: 0.5 * i, startSeconds: 3, firstEpoch: 1, ...extra,
    })),
  };
}

const runs = [
  { ...run('a', 'bp', [[10, 0.8], [20, 0.91], [30, 0.95]]), trainMacsPerSample: 39_385_088 },
  run('a', 'al-pipeline-wide', [[5, 0.85], [10, 0.92]]),
  run('a', 'gpipe', [[15, 0.5], [40, 0.7]]),
  run('b', 'al-wide', [[8, 0.95]]),
];

test('raceRows: first crossing, ratio to BP on the same benchmark, settling and evaluations up to it', () => {
  const rows = raceRows(runs);
  assert.deepEqual(rows.map((r) => [r.config, r.crossing?.seconds ?? null, r.ratioToBp]), [
    ['bp', 20, 1], ['al-pipeline-wide', 10, 0.5], ['gpipe', null, null], ['al-wide', 8, null],
  ]);
  const al = rows[1]!;
  assert.deepEqual([al.evaluations, al.evalSeconds, al.settleSeconds, al.startSeconds, al.bestAccuracy], [2, 2, 0.5, 3, 0.92]);
  const never = rows[2]!;
  assert.deepEqual([never.evaluations, never.lastSeconds, never.bestAccuracy], [2, 40, 0.7], 'not reached: up to its last evaluation');
  const cells = raceCells(rows);
  assert.deepEqual(cells[1]!.slice(0, 7), ['a', 'al-pipeline-wide', '90.00%', '10.0 s', '0.50', '5.0 s', '20 (1)']);
  assert.deepEqual(cells[2]!.slice(3, 5), ['not in 40.0 s', '—']);
  assert.deepEqual(cells.map((c) => c[11]), ['39.4 M', '—', '—', '—'], 'multiply-adds a sample, where the run recorded them');
});

test('raceSvg: a polyline per run, a dot where each first reached the target, the target line; raceHtml holds the table and the charts', () => {
  const svg = raceSvg('Benchmark A', runs.slice(0, 3));
  assert.equal(svg.match(/<polyline class="series"/g)?.length, 3);
  assert.equal(svg.match(/<circle class="marker"/g)?.length, 2, 'gpipe never reached it');
  assert.match(svg, /<line class="reference"[^>]*stroke-dasharray/);
  assert.match(svg, /target 90\.00%/);
  assert.match(svg, /clipPath id="plot-a"/);
  const html = raceHtml(raceRows(runs), [{ benchmark: 'a', title: 'Benchmark A', svg }]);
  assert.match(html, /<th[^>]*>time to target<\/th>/);
  assert.match(html, /<td>al-pipeline-wide<\/td>/);
  assert.ok(html.includes('<svg'), 'the chart inline');
  assert.ok(!html.includes('<?xml'), 'without its XML declaration');
});

test('lineChartSvg: points map into the plot (x from 0, y over the range), labels escaped; niceStep is 1, 2 or 5 × 10^k', () => {
  const svg = lineChartSvg([{ label: 'a<b', colour: '#123456', points: [[0, 0], [10, 1]] }], { title: 'T', xLabel: 'x', yLabel: 'y', yMin: 0, yMax: 1, width: 264, height: 200 });
  // LEFT 64, RIGHT 24 → plot width 176; TOP 56, 48 below, legend 1 row of 18 + 8 → plot height 70
  assert.match(svg, /points="64\.00,126\.00 240\.00,56\.00"/);
  assert.match(svg, /a&lt;b/);
  assert.deepEqual([niceStep(100, 5), niceStep(7, 5), niceStep(0.3, 3), niceStep(0, 4)], [20, 2, 0.1, 1]);
});
