// al reproduce pipeline: the naive BP pipeline runs beside BP and GPipe, and its test accuracy is
// set against theirs (points, naive minus each), on hand-made results.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { experiments } from '../../../src/cli/commands/reproduce_tables.js';
import { staleGradients, staleGradientText, type RunResult } from '../../../src/cli/commands/reproduce_text.js';

const result = (name: string, testAccuracy: number): RunResult => ({ name, epochs: 1, testAccuracy, trainAccuracy: null, samplesPerSec: 100, seconds: 1, runDir: `r/${name}` });

test('the pipeline table runs the naive pipeline on 2 workers beside BP, GPipe and AL', () => {
  const list = experiments('pipeline', undefined);
  assert.deepEqual(list.map((e) => [e.name, e.method]), [['cnn-bp', 'bp'], ['cnn-gpipe', 'gpipe'], ['cnn-naive', 'naive-pipeline'], ['cnn-al', 'al'], ['cnn-al-pipeline', 'al']]);
  assert.deepEqual(list.find((e) => e.name === 'cnn-naive')!.extra, ['--workers', '2', '--trace']);
});

test('staleGradients: the naive run against each exact method of the same network, in points', () => {
  const list = experiments('pipeline', undefined);
  const results = [result('cnn-bp', 0.897), result('cnn-gpipe', 0.9012), result('cnn-naive', 0.799), result('cnn-al', 0.95)];
  const [row, ...rest] = staleGradients(list, results);
  assert.equal(rest.length, 0);
  assert.deepEqual(row!.naive, { name: 'cnn-naive', testAccuracy: 0.799 });
  assert.deepEqual(row!.against.map((a) => [a.name, a.method, a.testAccuracy]), [['cnn-bp', 'bp', 0.897], ['cnn-gpipe', 'gpipe', 0.9012]]);
  assert.ok(Math.abs(row!.against[0]!.points - -9.8) < 1e-9 && Math.abs(row!.against[1]!.points - -10.22) < 1e-9);
  const text = staleGradientText([row!]).join('\n');
  assert.match(text, /^  cnn-naive +79\.90% +cnn-bp \(bp\) +89\.70% +−9\.80 points$/m);
  assert.match(text, /^ +cnn-gpipe \(gpipe\) +90\.12% +−10\.22 points$/m);
  assert.deepEqual(staleGradients(list, results.filter((r) => r.name !== 'cnn-naive')), [], 'no naive run, no row');
  assert.deepEqual(staleGradients(list, [result('cnn-naive', 0.8)]), [], 'nothing to compare with');
});
