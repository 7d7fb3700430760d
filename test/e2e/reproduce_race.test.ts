// al reproduce time-to-accuracy end to end on a small subset: BP and pipelined AL on 256 MNIST
// images, a test evaluation every step and a target every run reaches at its first one, so each
// stops there. The table's times are the runs' own (evals.jsonl), the report and the chart are
// written, and a second invocation reuses the finished runs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAl } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

interface Row { config: string; crossing: { seconds: number; step: number } | null; ratioToBp: number | null; settleSeconds: number }

test('al reproduce time-to-accuracy: times from the runs\' evals.jsonl, report.html and the SVG, finished runs reused', () => {
  const out = tempDir('al-e2e-race-');
  const args = ['reproduce', 'time-to-accuracy', '--quick', '--datasets', 'mnist-mlp', '--configs', 'bp,al-pipeline-lean', '--target', '1', '--out', out];
  const r = runAl([...args, '--json'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: Row[]; report: string; svg: string[] };
  const dir = join(out, 'time-to-accuracy');
  const evals = (config: string): { step: number; seconds: number; settleSeconds: number }[] =>
    readFileSync(join(dir, 'mnist-mlp', config, 'evals.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const [bp, al] = report.rows;
  assert.deepEqual(report.rows.map((x) => x.config), ['bp', 'al-pipeline-lean']);
  for (const row of report.rows) {
    const records = evals(row.config);
    assert.equal(records.length, 1, `${row.config}: stopped at its first evaluation, which reached the target`);
    assert.deepEqual([row.crossing!.step, row.crossing!.seconds], [1, records[0]!.seconds]);
    assert.ok(records[0]!.seconds > 0);
  }
  assert.ok(evals('al-pipeline-lean')[0]!.settleSeconds > 0, 'the pipeline drained and collected before evaluating');
  assert.equal(bp!.ratioToBp, 1);
  assert.ok(Math.abs(al!.ratioToBp! - al!.crossing!.seconds / bp!.crossing!.seconds) < 1e-12);
  assert.equal(report.report, join(dir, 'report.html'));
  const html = readFileSync(report.report, 'utf8');
  assert.match(html, /<td>al-pipeline-lean<\/td>/);
  assert.match(html, /<svg[^>]*>/);
  assert.deepEqual(report.svg, [join(dir, 'mnist-mlp.svg')]);
  const svg = readFileSync(report.svg[0]!, 'utf8');
  assert.equal(svg.match(/<polyline class="series"/g)?.length, 2);
  assert.ok(!existsSync(join(dir, 'mnist-mlp', 'bp', 'checkpoint.json')), 'stopped in its first epoch: nothing saved');

  const again = runAl(args, { timeoutMs: 60_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\[1\/2\] mnist-mlp bp: reusing/);
  assert.match(again.stdout, /\[2\/2\] mnist-mlp al-pipeline-lean: reusing/);
  const line = again.stdout.split('\n').find((l) => /^\s+mnist-mlp\s+al-pipeline-lean\s/.test(l))!;
  assert.ok(line.includes(`${al!.crossing!.seconds.toFixed(1)} s`) && line.includes(al!.ratioToBp!.toFixed(2)), line);
});
