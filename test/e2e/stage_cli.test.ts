// `al stage` and `al train --pipeline --processes N | --stages H:P,...` end to end: a run across
// stage processes writes the same checkpoint, byte for byte, as the same run on worker threads;
// the token never reaches the run directory; unreachable stages and bad flags give clear errors.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { alBin as al, makeKeyPair, runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const run = (args: string[], env: Record<string, string> = {}): CliResult => runAl(args, { timeoutMs: 120_000, env });

// one keypair for the coordinator and the stages of these tests, through the environment of each child
process.env['AL_KEY'] = makeKeyPair(tempDir('al-stage-keys-'));

const common = ['train', '--model', 'mlp', '--method', 'al', '--pipeline', '--al-layers', '2', '--t-width', '32', '--limit', '256', '--epochs', '1', '--batch', '64'];

test('--processes 2: the same checkpoint and evaluations between steps as worker threads, and the stage processes are gone after', () => {
  const base = tempDir('al-stage-');
  const evals = ['--eval-every', '1', '--test-limit', '500'];
  const threads = run([...common, ...evals, '--out', join(base, 'threads')]);
  assert.equal(threads.code, 0, threads.stderr);
  const procs = run([...common, ...evals, '--processes', '2', '--out', join(base, 'procs')]);
  assert.equal(procs.code, 0, procs.stderr);
  assert.match(procs.stdout, /pipeline: 2 stages in stage processes at 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+ \(AL layers 1 \| 2; \d+ % \| \d+ % of the multiply-adds\)/);
  assert.ok(readFileSync(join(base, 'procs', 'checkpoint.safetensors')).equals(readFileSync(join(base, 'threads', 'checkpoint.safetensors'))));
  // the stages' snapshots cross the wire as they do between threads
  const accuracies = (dir: string): number[] => readFileSync(join(base, dir, 'evals.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { testAccuracy: number }).testAccuracy);
  assert.deepEqual(accuracies('procs'), accuracies('threads'));
  assert.equal(accuracies('procs').length, 4, 'one evaluation after each of the 4 steps');
});

const gpipe = ['train', '--model', 'mlp', '--method', 'gpipe', '--micro-batches', '2', '--limit', '512', '--epochs', '1', '--batch', '64'];

test('gpipe --processes 2: bit for bit the run of --pipeline --workers 2 on worker threads', () => {
  const base = tempDir('al-stage-gpipe-');
  const threads = run([...gpipe, '--pipeline', '--workers', '2', '--out', join(base, 'threads')]);
  assert.equal(threads.code, 0, threads.stderr);
  const procs = run([...gpipe, '--processes', '2', '--out', join(base, 'procs')]);
  assert.equal(procs.code, 0, procs.stderr);
  assert.match(procs.stdout, /pipeline: 2 stages in stage processes at 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+ \(modules /);
  const metrics = (dir: string) => JSON.parse(readFileSync(join(base, dir, 'metrics.jsonl'), 'utf8').trim()) as { testAccuracy: number; trainLoss: number };
  assert.equal(metrics('procs').trainLoss, metrics('threads').trainLoss);
  assert.equal(metrics('procs').testAccuracy, metrics('threads').testAccuracy);
  assert.ok(metrics('threads').testAccuracy > 0.2, `test accuracy ${metrics('threads').testAccuracy}: the run did not train`);
  assert.ok(readFileSync(join(base, 'procs', 'checkpoint.safetensors')).equals(readFileSync(join(base, 'threads', 'checkpoint.safetensors'))),
    'the checkpoints differ');
});

test('naive-pipeline --processes 2 trains in stage processes and reports staleness', () => {
  const r = run(['train', '--model', 'mlp', '--method', 'naive-pipeline', '--limit', '256', '--epochs', '1', '--batch', '64', '--processes', '2', '--out', join(tempDir('al-stage-naive-'), 'run')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pipeline: 2 stages in stage processes at 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+ \(modules /);
  assert.match(r.stdout, /staleness \d+\.\d\d updates/);
});

test('--stages with listed stage processes; neither the token nor the keys are written to the run directory', async () => {
  const base = tempDir('al-stage-');
  const token = 'secret-' + Math.random().toString(36).slice(2);
  const stage = spawn(process.execPath, [al, 'stage', '--listen', '127.0.0.1:0'], { env: { ...process.env, AL_TOKEN: token } });
  try {
    const address = await new Promise<string>((resolveAddress, reject) => {
      let out = '';
      stage.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolveAddress(m[1]!);
      });
      stage.once('exit', (code) => reject(new Error(`al stage exited (${code})`)));
    });
    // one stage process holds both layers; it serves the run and waits for the next one
    const child = spawn(process.execPath, [al, ...common, '--stages', address, '--token', token, '--out', join(base, 'run'), '--json']);
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout.trim().split('\n').pop()!) as { runDir: string }).runDir, join(base, 'run'));
    assert.equal(stage.exitCode, null, 'the stage process serves on');
    // nor are the keys
    const secretKey = /secret (\S+)/.exec(readFileSync(process.env['AL_KEY']!, 'utf8'))![1]!;
    for (const file of readdirSync(join(base, 'run'))) {
      for (const secret of [token, secretKey]) assert.ok(!readFileSync(join(base, 'run', file)).includes(secret), `${file} holds ${secret === token ? 'the token' : 'the secret key'}`);
    }
  } finally {
    stage.kill('SIGTERM');
  }
});

test('a stage that cannot be reached exits 1 naming HOST:PORT; bad stage flags exit 2 naming the flag', () => {
  const unreachable = run([...common, '--stages', '127.0.0.1:9', '--token', 't', '--out', join(tempDir('al-stage-'), 'r')]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /pipeline stage 1 \(AL layers 1, 2\): cannot reach a stage process at 127\.0\.0\.1:9 within 5 s/);
  const cases: [string[], RegExp][] = [
    [[...common, '--stages', 'localhost'], /--stages: expected HOST:PORT \(e\.g\. 127\.0\.0\.1:5001\), got 'localhost'/],
    [[...common, '--stages', '127.0.0.1:5001'], /--stages: the coordinator's keypair is needed: give --key FILE \(make one with al keygen\) or set AL_KEY/],
    [[...common, '--stages', '127.0.0.1:5001', '--insecure'], /--stages: with --insecure, the stages' token is needed: give --token T or set AL_TOKEN/],
    [[...common, '--processes', '3'], /--processes: at most one stage per AL layer \(2 layers\), got 3/],
    [[...common, '--processes', '2', '--stages', '127.0.0.1:1'], /--stages and --processes: give one of them, not both/],
    [['train', '--method', 'bp', '--processes', '2'], /--processes: only applies to a pipelined run \(--method al --pipeline, gpipe or naive-pipeline\)/],
    [['stage', '--listen', '127.0.0.1:1'], /--key: required: this stage's keypair file \(make one with al keygen\), or set AL_KEY/],
    [['stage', '--listen', '127.0.0.1:1', '--insecure'], /--token: required with --insecure \(or set AL_TOKEN\)/],
    [['stage', '--listen', 'nowhere', '--token', 't'], /--listen: expected HOST:PORT/],
  ];
  for (const [args, message] of cases) {
    const r = run(args, { AL_TOKEN: '', AL_KEY: '' });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('a stage process killed mid-run: al train exits 1 naming the stage and its address, without hanging', async () => {
  const base = tempDir('al-stage-');
  const token = 'kill-test';
  const stage = spawn(process.execPath, [al, 'stage', '--listen', '127.0.0.1:0'], { env: { ...process.env, AL_TOKEN: token } });
  const address = await new Promise<string>((resolveAddress) => {
    let out = '';
    stage.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolveAddress(m[1]!);
    });
  });
  const child = spawn(process.execPath, [al, ...common, '--limit', '5120', '--epochs', '50', '--stages', address, '--token', token, '--out', join(base, 'run')]);
  let stdout = '', stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  await new Promise<void>((started) => child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('pipeline:')) started();
  }));
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(child.exitCode, null, `the run is still going: ${stdout}`);
  stage.kill('SIGKILL');
  const killed = performance.now();
  const code = await exited;
  assert.equal(code, 1, stderr);
  assert.match(stderr, new RegExp(`al train: pipeline stage 1 \\(AL layers 1, 2\\): .*stage process at ${address.replace(/\./g, '\\.')}`));
  assert.ok(performance.now() - killed < 15_000, 'noticed in bounded time');
});
