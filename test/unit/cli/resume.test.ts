// `al train --resume RUN_DIR`: the saved settings win, flags beside --resume must agree with them
// (except --epochs, --threads, --data-dir, --json and where the stages run), and an unreadable run
// directory or config.json is named.
import { generateKeys } from '../../../src/pipeline/runtime/curve.js';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseTrainConfig, type TrainConfig } from '../../../src/cli/commands/train.js';
import { UsageError } from '../../../src/cli/errors.js';
import { runIdentity } from '../../../src/run/resume.js';
import { readTrainConfig as readRunConfig } from '../../../src/run/train_config.js';
import { CheckpointError, encodeSafetensors } from '../../../src/train/checkpoint.js';
import { writeCheckpointPair } from '../../../src/train/checkpoint_files.js';
import { tempDir } from '../../util/temp_dir.js';

/** A run directory whose config.json is what `al train FLAGS` would write, with a checkpoint of epoch 1. */
function runWith(flags: string[], checkpoint: { epoch: number; config?: object } | null = { epoch: 1 }): { dir: string; saved: TrainConfig } {
  const dir = tempDir('al-resume-cli-');
  const saved = parseTrainConfig([...flags, '--out', dir]);
  assert.ok(saved !== 'help');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...saved, parameters: 123, machine: { isa: 'avx2' } }, null, 2));
  if (checkpoint) {
    writeCheckpointPair(dir, encodeSafetensors([]), { epoch: checkpoint.epoch, rng: {}, optimizers: [], config: runIdentity(checkpoint.config ?? saved) });
  }
  return { dir, saved };
}

const resume = (args: string[]): TrainConfig => {
  const config = parseTrainConfig(args);
  assert.ok(config !== 'help');
  return config;
};

test('--resume alone: the saved settings, the run directory as --out', () => {
  const { dir, saved } = runWith(['--model', 'cnn', '--method', 'al', '--al-layers', '3', '--epochs', '4', '--lr', '0.002', '--threads', '1', '--limit', '500']);
  const config = resume(['--resume', dir]);
  const plain = (o: object): unknown => JSON.parse(JSON.stringify(o)); // as config.json holds it
  assert.deepEqual(plain(config), plain({ ...saved, out: dir, resume: dir, json: false }));
  assert.equal((config as unknown as Record<string, unknown>)['machine'], undefined);
  const cut = runWith(['--model', 'cnn', '--method', 'al', '--al-cut', '3,1,2,2', '--epochs', '4']);
  assert.deepEqual(resume(['--resume', cut.dir, '--al-cut', '3,1,2,2']).alCut, [3, 1, 2, 2], 'the saved cut, and the same cut given again is no conflict');
});

test('--epochs, --threads, --data-dir and --json may change; equal values of other flags are fine', () => {
  const { dir, saved } = runWith(['--lr', '0.001', '--epochs', '2', '--threads', '1']);
  const config = resume(['--resume', dir, '--epochs', '5', '--threads', '2', '--data-dir', '/data', '--json', '--lr', '1e-3', '--model', 'mlp', '--batch', '128']);
  assert.deepEqual([config.epochs, config.threads, config.dataDir, config.json, config.lr], [5, 2, '/data', true, saved.lr]);
  assert.throws(() => resume(['--resume', dir, '--epochs', '0']), /--epochs: expected an integer from 1, got '0'/);
});

test('a flag that conflicts with the saved run exits 2 naming the flag, the setting and the file', () => {
  const { dir } = runWith(['--lr', '0.001']);
  const file = join(dir, 'config.json');
  const conflict = (args: string[], pattern: RegExp): void =>
    assert.throws(() => resume(['--resume', dir, ...args]), (e: unknown) => e instanceof UsageError && pattern.test(e.message));
  conflict(['--lr', '0.01'], new RegExp(`^--lr 0.01: conflicts with the run's lr 0.001 in ${file}; a resumed run keeps its settings`));
  conflict(['--model', 'cnn'], /^--model cnn: conflicts with the run's model "mlp"/);
  conflict(['--method', 'al'], /^--method al: conflicts with the run's method "bp"/);
  conflict(['--t-width', '64'], /^--t-width 64: conflicts with the run's tWidth \(unset\)/);
  conflict(['--seed', '2'], /^--seed 2: conflicts with the run's seed 1/);
  conflict(['--al-cut', '4,4'], /^--al-cut 4,4: conflicts with the run's alCut \(unset\)/);
  conflict(['--pipeline'], /^--pipeline: conflicts with the run's pipeline false/);
  conflict(['--out', '/elsewhere'], new RegExp(`^--out: a resumed run writes to its own directory \\(${dir}\\)`));
});

test('an unreadable run directory or config.json: a CheckpointError naming the file', () => {
  const bad = (dir: string, pattern: RegExp): void =>
    assert.throws(() => resume(['--resume', dir]), (e: unknown) => e instanceof CheckpointError && pattern.test(e.message));
  bad('/nonexistent/run', /^\/nonexistent\/run\/config.json: cannot read the run's configuration \(ENOENT\)/);
  const dir = tempDir('al-resume-cli-');
  writeFileSync(join(dir, 'file'), 'x');
  bad(join(dir, 'file'), /file\/config.json: cannot read the run's configuration \(ENOTDIR\)/);
  writeFileSync(join(dir, 'config.json'), '{"model": "mlp",');
  bad(dir, /config.json: cannot read the run's configuration \(.*JSON/);
  writeFileSync(join(dir, 'config.json'), '[]');
  bad(dir, /config.json: expected a JSON object/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: 'mlp', dataset: 'mnist', method: 'bp', optimizer: 'adam', schedule: 'paper', epochs: 2, batch: 64, seed: 1, threads: 1, lr: 'high', weightDecay: 0 }));
  bad(dir, /config.json: setting 'lr': expected a number, got "high"/);
  assert.throws(() => readRunConfig('/nonexistent'), /ENOENT/);
});

test('a hand-edited bridge or hidden width in config.json is refused naming the setting and its flag', () => {
  const edit = (flags: string[], change: object, pattern: RegExp): void => {
    const { dir, saved } = runWith(flags);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...saved, ...change }));
    assert.throws(() => resume(['--resume', dir]), (e: unknown) => e instanceof CheckpointError && pattern.test(e.message));
  };
  edit(['--method', 'al', '--bridge', 'slim'], { bridge: 'huge' }, /config.json: setting 'bridge' \(--bridge\): expected one of wide, slim, lean, got 'huge'/);
  edit(['--hidden', '64,32'], { hidden: [64, 0] }, /config.json: setting 'hidden' \(--hidden\): expected 1 to 64 comma-separated widths/);
  edit(['--hidden', '64,32'], { hidden: '64' }, /config.json: setting 'hidden': expected a list of numbers, got "64"/);
  assert.deepEqual(resume(['--resume', runWith(['--hidden', '64,32']).dir]).hidden, [64, 32]);
});

test('the checkpoint is checked at once: of another configuration, or with no epoch left; none at all starts the run again', () => {
  // stopped before its first epoch ended: resumable, from epoch 1 with the saved settings
  const none = runWith(['--epochs', '2'], null);
  assert.equal(resume(['--resume', none.dir]).resume, none.dir);
  const { saved } = runWith(['--epochs', '2']);
  const other = runWith(['--epochs', '2'], { epoch: 1, config: { ...saved, batch: 64 } });
  assert.throws(() => resume(['--resume', other.dir]), (e: unknown) => e instanceof CheckpointError &&
    e.message === `${join(other.dir, 'checkpoint.json')}: was written for batch 64, but ${join(other.dir, 'config.json')} has 128`);
  const done = runWith(['--epochs', '2'], { epoch: 2 });
  assert.throws(() => resume(['--resume', done.dir]), (e: unknown) => e instanceof UsageError &&
    e.message === `--resume ${done.dir}: the run has finished 2 of 2 epochs; pass --epochs N with N > 2 to train further`);
  assert.equal(resume(['--resume', done.dir, '--epochs', '3']).epochs, 3);
});

test('where the stages run is given anew: --stages with --token, or --processes; saved addresses and tokens are never reused', () => {
  // --stages needs the coordinator's keypair: given here through the environment
  const { publicKey, secretKey } = generateKeys();
  process.env['AL_KEYPAIR'] = `${publicKey} ${secretKey}`;
  const al = ['--method', 'al', '--pipeline', '--al-layers', '2'];
  const placement = (c: TrainConfig): unknown[] => [c.stages, c.processes, c.stageToken];
  // a config.json that holds stage addresses and a token, as no run writes it: neither is taken
  const listed = runWith([...al, '--stages', '127.0.0.1:1,127.0.0.1:2', '--token', 'old']);
  assert.deepEqual(placement(resume(['--resume', listed.dir])), [undefined, undefined, undefined]);
  assert.deepEqual(placement(resume(['--resume', listed.dir, '--stages', '10.0.0.1:5,10.0.0.2:5', '--token', 'new'])), [['10.0.0.1:5', '10.0.0.2:5'], undefined, 'new']);
  assert.deepEqual(placement(resume(['--resume', listed.dir, '--processes', '2'])), [undefined, 2, undefined]);
  // local stage processes are started again, unless the stages are placed elsewhere
  const local = runWith([...al, '--processes', '2']);
  assert.deepEqual(placement(resume(['--resume', local.dir])), [undefined, 2, undefined]);
  assert.deepEqual(placement(resume(['--resume', local.dir, '--stages', '127.0.0.1:3,127.0.0.1:4', '--token', 't'])), [['127.0.0.1:3', '127.0.0.1:4'], undefined, 't']);
  // checked as in a fresh run, against the run's saved stage count and method
  const file = join(local.dir, 'config.json');
  const refused = (dir: string, args: string[], message: string): void =>
    assert.throws(() => resume(['--resume', dir, ...args]), (e: unknown) => e instanceof UsageError && e.message === message);
  refused(local.dir, ['--stages', '127.0.0.1:3', '--token', 't'], `--stages: 1 stage, but the run has 2 (workers in ${file}); a resumed run keeps its stage count`);
  refused(local.dir, ['--processes', '2', '--stages', '127.0.0.1:3,127.0.0.1:4'], '--stages and --processes: give one of them, not both');
  refused(local.dir, ['--stages', 'nowhere,127.0.0.1:4', '--token', 't'], "--stages: expected HOST:PORT (e.g. 127.0.0.1:5001), got 'nowhere'");
  refused(local.dir, ['--token', 't'], '--token: only applies with --stages');
  refused(runWith(['--epochs', '2']).dir, ['--processes', '2'], '--processes: only applies to a pipelined run (--method al --pipeline, gpipe or naive-pipeline)');
  const env = process.env['AL_TOKEN'];
  delete process.env['AL_TOKEN'];
  try {
    // with keys the token is optional; without them (--insecure) it is the only check
    assert.deepEqual(placement(resume(['--resume', local.dir, '--stages', '127.0.0.1:3,127.0.0.1:4'])), [['127.0.0.1:3', '127.0.0.1:4'], undefined, undefined]);
    refused(local.dir, ['--stages', '127.0.0.1:3,127.0.0.1:4', '--insecure'], "--stages: with --insecure, the stages' token is needed: give --token T or set AL_TOKEN");
    delete process.env['AL_KEYPAIR'];
    refused(local.dir, ['--stages', '127.0.0.1:3,127.0.0.1:4'], "--stages: the coordinator's keypair is needed: give --key FILE (make one with al keygen) or set AL_KEY; or --insecure for stages on loopback");
  } finally {
    if (env !== undefined) process.env['AL_TOKEN'] = env;
    delete process.env['AL_KEYPAIR'];
  }
});

test('runIdentity: everything but the settings a resume may change', () => {
  const { saved } = runWith(['--epochs', '3']);
  const identity = runIdentity({ ...saved, resume: 'x', machine: {}, parameters: 1 });
  for (const key of ['epochs', 'threads', 'dataDir', 'json', 'out', 'resume', 'machine', 'parameters']) assert.ok(!(key in identity), key);
  for (const key of ['model', 'method', 'dataset', 'lr', 'batch', 'seed', 'optimizer', 'schedule', 'weightDecay']) assert.ok(key in identity, key);
});
