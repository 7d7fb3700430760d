// `al simulate` through its command function: the printed numbers, --json, --svg and the usage
// errors that name the flag.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { simulateCommand } from '../../../src/cli/commands/simulate.js';
import { UsageError } from '../../../src/cli/errors.js';
import { tempDir } from '../../util/temp_dir.js';

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await simulateCommand(args, (text) => {
    out += text;
  });
  return { code, out };
}

test('GPipe 4 × 4: 15 units per mini-batch instead of 36, as text and as JSON', async () => {
  const text = await run(['--schedule', 'gpipe', '--layers', '4', '--micro-batches', '4', '--batches', '1']);
  assert.equal(text.code, 0);
  assert.match(text.out, /^gpipe: 4 layers on 4 stages, 4 micro-batches, 1 mini-batch$/m);
  assert.match(text.out, /total: +15 units \(the same work without overlap: 36 units\)/);
  assert.match(text.out, /per full update: +15 units in steady state, 36 without pipelining/);
  assert.match(text.out, /gradients: +exact/);
  assert.match(text.out, /bubble 40%/);
  const json = await run(['--schedule', 'gpipe', '--layers', '4', '--batches', '2', '--json']);
  const summary = JSON.parse(json.out.trim().split('\n').pop()!);
  assert.equal(summary.microBatches, 4, 'default M');
  assert.equal(summary.totalUnits, 30);
  assert.equal(summary.unitsPerUpdate, 15);
  assert.equal(summary.sequentialUnitsPerUpdate, 36);
  assert.equal(summary.stale, false);
  assert.deepEqual(summary.utilisation, [0.6, 0.6, 0.6, 0.6]);
  assert.equal(summary.svg, null);
});

test('bp, naive and al report their per-update cost, fill and staleness', async () => {
  const bp = JSON.parse((await run(['--schedule', 'bp', '--layers', '3', '--json'])).out);
  assert.deepEqual([bp.unitsPerUpdate, bp.fillUnits, bp.stale, bp.batches, bp.totalUnits], [8, 0, false, 4, 32]);
  const naive = await run(['--schedule', 'naive', '--layers', '2', '--batches', '5']);
  assert.match(naive.out, /per full update: +1 unit in steady state, 6 without pipelining/);
  assert.match(naive.out, /first update: +at unit 6 \(fill 5 units\)/);
  assert.match(naive.out, /gradients: +stale \(an update meets up to 4 newer updates of its layer\)/);
  const al = JSON.parse((await run(['--schedule', 'al', '--layers', '4', '--batches', '8', '--json'])).out);
  assert.deepEqual([al.unitsPerUpdate, al.firstUpdate, al.fillUnits, al.stale, al.totalUnits], [1, 4, 3, false, 11]);
});

test('--svg writes the Gantt chart atomically, one rect per interval', async () => {
  const dir = tempDir('al-simulate-');
  const file = join(dir, 'al.svg');
  const r = await run(['--schedule', 'al', '--layers', '3', '--batches', '5', '--svg', file]);
  assert.equal(r.code, 0);
  assert.match(r.out, new RegExp(`Gantt chart: +${file}`));
  const svg = readFileSync(file, 'utf8');
  assert.match(svg, /^<\?xml/);
  assert.equal(svg.split('<rect class="interval"').length - 1, 15);
  assert.match(svg, /al: L = 3, 3 stages, 5 batches: 7 units, 1 per update/);
  assert.deepEqual(readdirSync(dir), ['al.svg'], 'no temporary file left behind');
});

test('--help, and bad usage names the flag', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: al simulate --schedule bp\|naive\|gpipe\|al --layers L/);
  const refused = async (args: string[], message: RegExp): Promise<void> => {
    await assert.rejects(run(args), (e: unknown) => e instanceof UsageError && message.test(e.message));
  };
  await refused(['--layers', '3'], /--schedule: required/);
  await refused(['--schedule', 'pipedream', '--layers', '3'], /--schedule: expected one of bp, naive, gpipe, al, got 'pipedream'/);
  await refused(['--schedule', 'al'], /--layers: required/);
  await refused(['--schedule', 'al', '--layers', '0'], /--layers: expected an integer from 1/);
  await refused(['--schedule', 'bp', '--layers', '3', '--stages', '2'], /--stages: only applies to gpipe and al/);
  await refused(['--schedule', 'gpipe', '--layers', '3', '--stages', '4'], /--stages: expected an integer from 1 to 3, got '4'/);
  await refused(['--schedule', 'al', '--layers', '3', '--micro-batches', '2'], /--micro-batches: only applies to --schedule gpipe/);
  await refused(['--schedule', 'gpipe', '--layers', '3', '--micro-batches', 'x'], /--micro-batches: expected an integer from 1/);
  await refused(['--schedule', 'al', '--layers', '3', '--batches=-1'], /--batches: expected an integer from 1/);
  await refused(['--schedule', 'al', '--layers', '3', '--stage', '2'], /'--stage'/);
  await refused(['--schedule', 'gpipe', '--layers', '100', '--micro-batches', '100', '--batches', '100'], /--batches: this schedule would have 2010000 intervals/);
  await refused(['--schedule', 'al', '--layers', '100', '--batches', '1000', '--svg', 'x.svg'], /--svg: 100000 intervals are too many to draw/);
  const missing = join(tempDir('al-simulate-'), 'no', 'such', 'dir.svg');
  await refused(['--schedule', 'al', '--layers', '2', '--svg', missing], new RegExp(`--svg ${missing}: cannot write the chart \\(ENOENT\\)`));
  assert.equal(existsSync(missing), false);
});
