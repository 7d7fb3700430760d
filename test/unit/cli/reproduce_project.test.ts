// The --project table as printed: one row per run with its rates, times and budget, the total,
// and a warning naming the runs timed while other jobs had the cores.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectionText, type Projection } from '../../../src/cli/commands/reproduce_project.js';

const row = (name: string, trainSamplesPerSec: number, cpuShare: number, epochs: number): Projection => {
  const epochSeconds = 50_000 / trainSamplesPerSec + 10_000 / 1000;
  return { name, epochs, batch: 128, threads: 2, steps: 12, timedSeconds: 6, trainSamplesPerSec, evalSamplesPerSec: 1000, epochSeconds, budgetSeconds: epochs * epochSeconds, cpuShare };
};

test('projectionText: per run samples/s, time per epoch and for the budget; the total in days beyond one', () => {
  const text = projectionText([row('resnet20-bp', 250, 0.97, 40), row('resnet20-al', 100, 0.95, 40)], 50_000);
  assert.match(text[0]!, /for 50,000 training and 10,000 test images an epoch/);
  // 50,000 / 250 + 10 = 210 s an epoch, 8,400 s for 40; the AL run 510 s and 20,400 s; VGG 5,010 s and 100,200 s
  assert.match(text.find((l) => l.includes('resnet20-bp'))!, /resnet20-bp\s+128\s+2\s+12\s+250\s+1000\s+97%\s+03:30\s+40\s+2:20:00$/);
  assert.match(text.find((l) => l.includes('resnet20-al'))!, /resnet20-al\s+128\s+2\s+12\s+100\s+1000\s+95%\s+08:30\s+40\s+5:40:00$/);
  assert.ok(text.includes('  all 2 runs: 8:00:00'));
  assert.ok(!text.some((l) => l.includes('busy')), 'both had their cores');
  const long = projectionText([row('vgg-al', 10, 0.3, 20)], 50_000);
  assert.ok(long.includes('  all 1 runs: 27:50:00 (1.2 d)'), long.join('\n'));
  assert.match(long.join('\n'), /the machine was busy \(load average [\d.]+ on \d+ cores\): vgg-al had under 80 % of their/);
});
