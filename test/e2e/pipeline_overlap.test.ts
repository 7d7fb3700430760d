// Pipelined AL really runs its stages at the same time: in the trace.json of a real run
// (al train --pipeline --trace), stage 2's step on batch b overlaps stage 1's on a later batch,
// and the time both stages are busy at once is a good share of their busy time. A coordinator that
// waited for each stage before feeding the next (a serial schedule behind a pipelined API) would
// leave no overlap at all. The time-to-accuracy comparison rests on this.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAl } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

interface Interval { stage: number; batch: number; start: number; end: number }

/** Total time during which an interval of `a` and one of `b` are both open (each list disjoint in itself). */
function overlapMs(a: Interval[], b: Interval[]): number {
  let total = 0;
  for (const x of a) for (const y of b) total += Math.max(0, Math.min(x.end, y.end) - Math.max(x.start, y.start));
  return total;
}

test('the stages of a pipelined AL run overlap in time (trace.json)', () => {
  const out = join(tempDir('al-e2e-overlap-'), 'run');
  const r = runAl(['train', '--model', 'mlp', '--method', 'al', '--pipeline', '--trace', '--al-layers', '2', '--t-width', '128',
    '--limit', '1024', '--batch', '64', '--epochs', '1', '--out', out], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const trace = JSON.parse(readFileSync(join(out, 'trace.json'), 'utf8')) as { stages: unknown[]; intervals: Interval[] };
  assert.equal(trace.stages.length, 2);
  const [first, second] = [0, 1].map((s) => trace.intervals.filter((i) => i.stage === s));
  assert.equal(first!.length, 16);
  assert.equal(second!.length, 16);
  const busy = (list: Interval[]): number => list.reduce((t, i) => t + i.end - i.start, 0);
  const both = overlapMs(first!, second!);
  const shorter = Math.min(busy(first!), busy(second!));
  // typically 50-60 % here; the bound leaves room for a loaded machine, and a serial schedule gives 0
  assert.ok(both > 0.05 * shorter, `both stages busy at once for ${both.toFixed(2)} ms of ${shorter.toFixed(2)} ms`);
  // the pipelining itself: stage 2 works on batch b while stage 1 already works on a later one
  // (12 to 15 of the 16 batches on an idle machine, fewer when stage 1 gets far ahead)
  const ahead = second!.filter((y) => first!.some((x) => x.batch > y.batch && Math.min(x.end, y.end) > Math.max(x.start, y.start)));
  assert.ok(ahead.length >= 1, `stage 2 overlapped stage 1's later batches on ${ahead.length} of 16 batches`);
  // and never ahead of its input: stage 2 starts batch b after stage 1 finished it
  for (const y of second!) {
    const x = first!.find((i) => i.batch === y.batch)!;
    assert.ok(y.start >= x.end, `batch ${y.batch}: stage 2 started at ${y.start}, stage 1 ended at ${x.end}`);
  }
});
