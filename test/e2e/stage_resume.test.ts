// A stage process killed mid-run, end to end: `al train --stages A,B` exits 1 in bounded time
// naming the stage and its HOST:PORT, tells the surviving stage to end the run (it lives on and
// serves the resumed run), and leaves the epoch-1 checkpoint whole; B restarted on its port and
// `al train --resume RUN --stages A,B` end with the very checkpoint bytes of a run never
// interrupted. A run resumed with --processes 2 ends on them too.
//
// The uninterrupted reference runs on worker threads: it is the cheapest, and a valid reference
// because the stage code is the same on every transport, stage_cli.test.ts shows --processes 2
// writes the same checkpoint bytes as worker threads, and pipeline_processes.test.ts shows stage
// processes end bit-identical to sequential AL.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PREVIOUS_TENSORS_FILE, readCheckpointInfo, readCheckpointTensors } from '../../src/train/checkpoint_files.js';
import { until } from '../util/poll.js';
import { alBin as al, makeKeyPair, runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const work = tempDir('al-stage-resume-');
// one keypair for the coordinator and every stage, through the environment of each child
process.env['AL_KEY'] = makeKeyPair(work);
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

// 48 batches an epoch: long enough that a kill seen at the epoch-1 checkpoint lands in epoch 2
const settings = ['--model', 'mlp', '--method', 'al', '--pipeline', '--al-layers', '2', '--t-width', '32', '--limit', '3072', '--batch', '64'];
const reference = join(work, 'reference');

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 120_000 });

interface Stage {
  child: ChildProcess;
  address: string;
  log: () => string;
}

/** `al stage --listen` on `listen` (port 0: a free port), once it listens. */
async function startStage(listen: string, token: string): Promise<Stage> {
  const child = spawn(process.execPath, [al, 'stage', '--listen', listen], { env: { ...process.env, AL_TOKEN: token } });
  children.push(child);
  let out = '', err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /listening on \S+/.test(out) || child.exitCode !== null, 20_000, () => `al stage --listen ${listen}: ${err}`);
  const address = /listening on (\S+)/.exec(out)?.[1];
  assert.ok(address, `al stage --listen ${listen} exited (${child.exitCode}): ${err}`);
  return { child, address, log: () => err };
}

const checkpointEpoch = (dir: string): number | null => {
  try {
    return readCheckpointInfo(dir).epoch;
  } catch {
    return null;
  }
};

const epochLosses = (dir: string): unknown[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => [JSON.parse(l).epoch, JSON.parse(l).layers]);

/** The checkpoint bytes and record of a run, and its per-epoch layer losses, equal the reference's. */
function assertSameAsReference(dir: string): void {
  assert.ok(readFileSync(join(dir, 'checkpoint.safetensors')).equals(readFileSync(join(reference, 'checkpoint.safetensors'))), `${dir}: checkpoint.safetensors differs from the uninterrupted run's`);
  assert.equal(readFileSync(join(dir, 'checkpoint.json'), 'utf8'), readFileSync(join(reference, 'checkpoint.json'), 'utf8'));
  assert.deepEqual(epochLosses(dir), epochLosses(reference));
}

before(() => {
  const r = run(['train', ...settings, '--epochs', '3', '--out', reference]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pipeline: 2 stages on worker threads/);
});

test('a stage killed in epoch 2: al train stops in bounded time naming it, keeps epoch 1; restarted and resumed, it ends bit-identical', async () => {
  const token = 'resume-test-' + Math.random().toString(36).slice(2);
  const a = await startStage('127.0.0.1:0', token);
  let b = await startStage('127.0.0.1:0', token);
  const stages = `${a.address},${b.address}`;
  const dir = join(work, 'killed');
  const train = spawn(process.execPath, [al, 'train', ...settings, '--epochs', '3', '--stages', stages, '--token', token, '--out', dir]);
  children.push(train);
  let stdout = '', stderr = '';
  train.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  train.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => train.once('exit', r));

  // checkpoint.json is written last and atomically: once it says epoch 1, epoch 2 is under way
  await until(() => checkpointEpoch(dir) === 1 || train.exitCode !== null, 60_000, () => `no epoch-1 checkpoint: ${stdout}${stderr}`);
  b.child.kill('SIGKILL');
  const killed = performance.now();
  const code = await exited;
  const seconds = (performance.now() - killed) / 1000;
  assert.equal(code, 1, `${stdout}\n${stderr}`);
  assert.ok(seconds < 15, `al train took ${seconds.toFixed(1)} s to stop after the kill`);
  const bAt = b.address.replace(/\./g, '\\.');
  assert.match(stderr, new RegExp(`^al train: pipeline stage 2 \\(AL layer 2\\): lost the connection to the stage process at ${bAt} `, 'm'));
  assert.doesNotMatch(stdout, /epoch 2\/3/, 'the kill landed in epoch 2');

  // the surviving stage was told to end the run and waits for the next one
  await until(() => /run over: the coordinator stopped it; waiting for the next one/.test(a.log()), 5000, a.log);
  assert.equal(a.child.exitCode, null, 'stage A lives on');

  // the epoch-1 checkpoint, whole: checkpoint.json names the SHA-256 of the tensors file beside it
  const info = readCheckpointInfo(dir);
  assert.equal(info.epoch, 1);
  assert.equal(readCheckpointTensors(dir, info).previous, false);
  assert.ok(!existsSync(join(dir, PREVIOUS_TENSORS_FILE)));
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoint.json', 'checkpoint.safetensors', 'config.json', 'metrics.jsonl']);
  assert.equal(epochLosses(dir).length, 1);

  // B restarted on its port; the run resumed on the same stages goes on from epoch 2
  b = await startStage(b.address, token);
  const resumed = run(['train', '--resume', dir, '--stages', stages, '--token', token]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resumed after epoch 1/);
  assert.match(resumed.stdout, new RegExp(`pipeline: 2 stages in stage processes at ${a.address.replace(/\./g, '\\.')}, ${bAt}`));
  assertSameAsReference(dir);
  // stage addresses and the token belong to the invocation, not to the run directory
  for (const file of ['config.json', 'checkpoint.json', 'metrics.jsonl']) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const secret of [token, a.address, b.address]) assert.ok(!text.includes(secret), `${file} holds ${secret}`);
  }
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
});

test('--resume RUN --processes 2: a run begun on worker threads goes on in stage processes, bit-identical', () => {
  const dir = join(work, 'moved');
  // the paper schedule's first milestone is at 40 % of the epochs: epoch 1 of a 1-epoch run and of
  // a 3-epoch run train alike, so resuming with --epochs 3 must give the reference's bytes
  const first = run(['train', ...settings, '--epochs', '1', '--out', dir]);
  assert.equal(first.code, 0, first.stderr);
  const resumed = run(['train', '--resume', dir, '--epochs', '3', '--processes', '2']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /pipeline: 2 stages in stage processes at 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+/);
  assertSameAsReference(dir);
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).processes, 2);
});
