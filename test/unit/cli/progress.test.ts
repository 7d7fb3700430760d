// The progress bar: silent off a terminal, redrawn in place on one, and stepProgress's ETA from
// the pace of the steps so far.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ProgressBar, formatDuration, stepProgress } from '../../../src/cli/progress.js';

function stream(isTTY: boolean): { writes: string[]; stream: NodeJS.WriteStream } {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
}

test('formatDuration: mm:ss, h:mm:ss from an hour, --:-- for no estimate', () => {
  assert.deepEqual([formatDuration(0), formatDuration(59.6), formatDuration(754), formatDuration(3725), formatDuration(Number.NaN), formatDuration(-1)],
    ['00:00', '01:00', '12:34', '1:02:05', '--:--', '--:--']);
});

test('a bar on a stream that is not a terminal writes nothing', () => {
  const s = stream(false);
  const bar = new ProgressBar(s.stream);
  stepProgress(bar, 'pipelines', 2).step('a');
  bar.clear();
  assert.deepEqual(s.writes, []);
});

test('stepProgress: each step names what finished, the ETA is the mean pace times the steps left', async () => {
  const s = stream(true);
  const bar = new ProgressBar(s.stream, 4);
  let clock = 1000;
  const progress = stepProgress(bar, 'pipelines', 3, () => clock);
  assert.deepEqual(s.writes, ['\rpipelines [>   ] 0/3  ETA --:--\x1b[K']);
  await sleep(110); // the bar redraws at most ten times a second
  clock += 30_000;
  progress.step('mlp round 1: al');
  assert.equal(s.writes[1], '\rpipelines [=>  ] 1/3 mlp round 1: al ETA 01:00\x1b[K', '30 s a step, two left');
  clock += 10_000;
  progress.step('mlp round 1: gpipe');
  assert.equal(s.writes.length, 2, 'within 100 ms of the last draw: skipped');
  clock += 20_000;
  progress.step('mlp round 2: al');
  assert.equal(s.writes[2], '\rpipelines [====] 3/3 mlp round 2: al ETA 00:00\x1b[K', 'the last step is always drawn');
  bar.clear();
  assert.equal(s.writes[3], '\r\x1b[K');
});
