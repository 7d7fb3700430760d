// `al simulate` as a user runs it: listed in `al --help`, exit 0 with the slides' GPipe numbers,
// exit 2 naming the flag on bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAl, type CliResult } from '../util/al_cli.js';

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 60_000 });

test('al simulate: listed, the slides\' GPipe numbers, exit 2 on a bad value', () => {
  assert.match(run(['--help']).stdout, /^ {2}simulate +time-unit schedules/m);
  const ok = run(['simulate', '--schedule', 'gpipe', '--layers', '4', '--micro-batches', '4', '--batches', '1', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const summary = JSON.parse(ok.stdout.trim().split('\n').pop()!);
  assert.deepEqual([summary.totalUnits, summary.workUnits], [15, 36]);
  const bad = run(['simulate', '--schedule', 'gpipe', '--layers', '4', '--micro-batches', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--micro-batches: expected an integer from 1/);
  assert.match(bad.stderr, /Run 'al simulate --help' for usage/);
});
