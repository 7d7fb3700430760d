// al reproduce pipeline, its BP runs only, on 256 images: the naive pipeline runs beside BP and
// GPipe, and the table of what stale gradients cost holds the runs' own test accuracies.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAl } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

test('al reproduce pipeline: the naive pipeline\'s test accuracy against BP\'s and GPipe\'s, in the text and in --json', () => {
  const out = tempDir('al-e2e-repro-pipeline-');
  const args = ['reproduce', 'pipeline', '--only', 'cnn-bp,cnn-gpipe,cnn-naive', '--epochs', '1', '--limit', '256', '--out', out];
  const r = runAl([...args, '--json'], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { staleGradients: { naive: { name: string; testAccuracy: number }; against: { name: string; testAccuracy: number; points: number }[] }[] };
  const last = (run: string): number => {
    const lines = readFileSync(join(out, 'pipeline', run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    return (JSON.parse(lines[lines.length - 1]!) as { testAccuracy: number }).testAccuracy;
  };
  assert.equal(report.staleGradients.length, 1);
  const [row] = report.staleGradients;
  assert.deepEqual(row!.naive, { name: 'cnn-naive', testAccuracy: last('cnn-naive') });
  assert.deepEqual(row!.against.map((a) => [a.name, a.testAccuracy]), [['cnn-bp', last('cnn-bp')], ['cnn-gpipe', last('cnn-gpipe')]]);
  for (const a of row!.against) assert.ok(Math.abs(a.points - 100 * (last('cnn-naive') - a.testAccuracy)) < 1e-9);
  // the runs are reused, and the text shows the same table
  const text = runAl(args, { timeoutMs: 60_000 });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /reusing .*cnn-naive/);
  assert.match(text.stdout, /Stale gradients: the naive pipeline/);
  const points = (x: number): string => `${x >= 0 ? '\\+' : '−'}${Math.abs(x).toFixed(2)} points`;
  assert.match(text.stdout, new RegExp(`cnn-bp \\(bp\\) +${(100 * last('cnn-bp')).toFixed(2)}% +${points(row!.against[0]!.points)}$`, 'm'));
});
