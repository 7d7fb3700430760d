// `al reproduce` runs each experiment as a child `al train`: a SIGTERM to it (a cancelled job, a
// test's time limit) must end that child too, never leave it training into a directory that may be
// about to disappear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { alBin } from '../util/al_cli.js';
import { until } from '../util/poll.js';
import { tempDir } from '../util/temp_dir.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('SIGTERM to al reproduce ends its running al train child as well', { timeout: 120_000 }, async () => {
  const out = tempDir('al-rep-sig-');
  const parent = spawn(process.execPath, [alBin, 'reproduce', 'layers', '--epochs', '3', '--limit', '64', '--out', out], { stdio: 'ignore' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => parent.once('exit', (code, signal) => resolve({ code, signal })));
  // the first experiment's al train has started once its run directory has a config
  await until(() => existsSync(join(out, 'layers', 'mlp-al-1', 'config.json')), 90_000, () => `no run directory under ${out}`);
  const children = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  assert.equal(children.length, 1, `expected one al train child, got ${children.join(', ') || 'none'}`);
  const child = children[0]!;
  parent.kill('SIGTERM');
  const end = await exited;
  assert.notEqual(end.code, 0, 'a stopped table does not end with success');
  await until(() => !alive(child), 10_000, () => `al train (pid ${child}) still runs after al reproduce ended`);
});
