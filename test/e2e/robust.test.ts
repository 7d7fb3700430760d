// `al train` against bad counts, interruptions and unusable run directories, end to end: every
// case exits 2 with a message naming the setting or path (or 130 after Ctrl-C), never by a signal.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { alBin, runAl, type CliResult } from '../util/al_cli.js';
import { until } from '../util/poll.js';
import { tempDir } from '../util/temp_dir.js';

const work = tempDir('al-e2e-robust-');
const mlp = ['--model', 'mlp', '--threads', '1'];

/** Exit 2, the message matching `pattern`, no raw errno text and no stack. */
function refused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\bE[A-Z]{3,}\b|errno|Invalid typed array length|\n\s+at /);
}

/** A run directory holding only the config.json of an MLP run, with `changes` applied. */
function savedRun(name: string, changes: Record<string, unknown>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const config = {
    model: 'mlp', dataset: 'mnist', augment: false, method: 'bp', epochs: 1, batch: 64, optimizer: 'adam', lr: 0.001,
    weightDecay: 0, schedule: 'paper', seed: 1, threads: 1, pipeline: false, trace: false, limit: 64, ...changes,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

test('counts from flags and from a re-read config.json are checked alike: exit 2 naming the setting and the file', () => {
  refused(runAl(['train', ...mlp, '--method', 'al', '--t-width', '1000000000']), /--t-width: expected an integer from 1 to 65536, got '1000000000'/);
  refused(runAl(['train', ...mlp, '--method', 'al', '--t-width', '60000', '--limit', '64', '--out', join(work, 'wide')]),
    /--t-width: 60000 gives mlp at least .* parameters, .* GB with their gradients and Adam moments, more than this machine's/);
  assert.ok(!existsSync(join(work, 'wide')), 'refused before the run directory is made');
  refused(runAl(['train', '--threads', '100000']), /--threads: expected an integer from 1 to 256, got '100000'/);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ batch: 0 }, /setting 'batch' \(--batch\): expected an integer from 1, got '0'/],
    [{ threads: 100000 }, /setting 'threads' \(--threads\): expected an integer from 1 to 256, got '100000'/],
    [{ seed: -1 }, /setting 'seed' \(--seed\): expected an integer from 0, got '-1'/],
    [{ limit: 0 }, /setting 'limit' \(--limit\): expected an integer from 1, got '0'/],
    [{ method: 'al', tWidth: 1e9 }, /setting 'tWidth' \(--t-width\): expected an integer from 1 to 65536, got '1000000000'/],
    [{ workers: 'x' }, /setting 'workers': expected a number, got "x"/],
  ];
  for (const [changes, pattern] of cases) {
    const dir = savedRun(`config-${Object.keys(changes).join('-')}`, changes);
    const r = runAl(['train', '--resume', dir]);
    refused(r, new RegExp(`${join(dir, 'config.json').replace(/[.]/g, '\\.')}: ${pattern.source}`));
  }
});

/** `al train ARGS` in the background, its stdout collected. */
function startAl(args: string[]): { child: ChildProcess; stdout: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [alBin, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, exit };
}

/** Whether `child` holds `dir`'s lock and has written config.json since `since` (then its Ctrl-C handler is in place). */
function training(dir: string, child: ChildProcess, since: number): boolean {
  try {
    const lock = JSON.parse(readFileSync(join(dir, 'al.lock'), 'utf8')) as { pid: number };
    return lock.pid === child.pid && statSync(join(dir, 'config.json')).mtimeMs >= since;
  } catch {
    return false;
  }
}

/** Starts `al train ARGS` writing into `dir` and sends it Ctrl-C once training has begun. */
async function interruptInFirstEpoch(dir: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  const since = Date.now() - 1;
  const al = startAl(args);
  await until(() => training(dir, al.child, since), 60_000, al.stdout);
  al.child.kill('SIGINT');
  const { code, signal } = await al.exit;
  assert.equal(signal, null, `ended by a signal: ${al.stdout()}`);
  return { code, stdout: al.stdout() };
}

// an epoch of 6000 MNIST samples takes seconds on one thread: the stop lands inside it
const slow = [...mlp, '--limit', '6000', '--epochs', '1'];

test('Ctrl-C in the first epoch: exit 130, --json says stopped; --resume starts the run again from epoch 1 and finishes it', { timeout: 240_000 }, async () => {
  const dir = join(work, 'stopped');
  const first = await interruptInFirstEpoch(dir, [...slow, '--out', dir, '--json']);
  assert.equal(first.code, 130, first.stdout);
  const summary = JSON.parse(first.stdout.trim().split('\n').pop()!) as { stopped: boolean; runDir: string };
  assert.equal(summary.stopped, true);
  assert.equal(summary.runDir, dir);
  assert.ok(!existsSync(join(dir, 'checkpoint.json')), 'no epoch finished');
  assert.ok(!existsSync(join(dir, 'al.lock')), 'the lock is released');

  const again = await interruptInFirstEpoch(dir, ['--resume', dir]);
  assert.equal(again.code, 130, again.stdout);
  assert.match(again.stdout, /no epoch had finished: starting again from epoch 1/);
  assert.match(again.stdout, new RegExp(`stopped early by Ctrl-C after .*: no epoch finished; al train --resume ${dir} starts it again from epoch 1`));

  const done = runAl(['train', '--resume', dir, '--json'], { timeoutMs: 180_000 });
  assert.equal(done.code, 0, done.stderr);
  assert.equal((JSON.parse(done.stdout.trim().split('\n').pop()!) as { stopped: boolean }).stopped, false);
  assert.deepEqual(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch), [1]);
  assert.equal((JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { epoch: number }).epoch, 1);
});

test('a run directory has one writer: a second run on it exits 2 naming the pid; a killed holder\'s lock and temporary files are taken over', { timeout: 240_000 }, async () => {
  const dir = join(work, 'locked');
  // all of MNIST: its first epoch outlasts the checks below by far
  const holder = startAl([...mlp, '--limit', '60000', '--epochs', '1', '--out', dir]);
  await until(() => training(dir, holder.child, 0), 60_000, holder.stdout);
  const pid = holder.child.pid!;
  assert.equal((JSON.parse(readFileSync(join(dir, 'al.lock'), 'utf8')) as { pid: number }).pid, pid);
  refused(runAl(['train', '--resume', dir]), new RegExp(`${dir}: in use by process ${pid} \\(${dir}/al.lock\\)`));
  refused(runAl(['train', ...slow, '--out', dir]), new RegExp(`${dir}: in use by process ${pid}`));

  holder.child.kill('SIGKILL'); // no chance to release anything
  await holder.exit;
  assert.ok(existsSync(join(dir, 'al.lock')));
  const stale = `checkpoint.safetensors.tmp-${pid}`;
  writeFileSync(join(dir, stale), 'half a checkpoint');
  const next = await interruptInFirstEpoch(dir, ['--resume', dir]);
  assert.equal(next.code, 130, next.stdout);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-') || f === 'al.lock'), [], 'stale lock and temporary file gone');
});

test('--out that cannot hold a run exits 2 naming the path and the cause in words, and leaves what is there alone', () => {
  const file = join(work, 'a-file');
  writeFileSync(file, 'mine');
  const quick = [...mlp, '--limit', '64', '--batch', '64', '--epochs', '1'];
  refused(runAl(['train', ...quick, '--out', file]), new RegExp(`${file}: expected a folder for the run, found a file there`));
  refused(runAl(['train', ...quick, '--out', join(file, 'run')]), new RegExp(`${file}/run: a part of the path is a file, not a folder`));
  assert.equal(readFileSync(file, 'utf8'), 'mine');

  const orphan = join(work, 'orphan');
  mkdirSync(orphan);
  writeFileSync(join(orphan, 'checkpoint.json'), '{"epoch": 3}');
  writeFileSync(join(orphan, 'checkpoint.safetensors'), 'tensors');
  refused(runAl(['train', ...quick, '--out', orphan]),
    new RegExp(`--out ${orphan}: holds checkpoint.json, checkpoint.safetensors of a run without its config.json; a new run would overwrite them`));
  assert.deepEqual(readdirSync(orphan).sort(), ['checkpoint.json', 'checkpoint.safetensors']);
  assert.equal(readFileSync(join(orphan, 'checkpoint.json'), 'utf8'), '{"epoch": 3}');
});

// A read-only and a full file system of our own, mounted in a user and mount namespace: root in
// a container writes through permission bits, so chmod cannot make a place read-only for it.
const namespaces = spawnSync('unshare', ['-rm', 'true']).status === 0;

/** `al train ARGS` in a fresh namespace with a tmpfs mounted on `mountPoint` with `options`. */
function inMount(mountPoint: string, options: string, args: string[]): CliResult {
  mkdirSync(mountPoint, { recursive: true });
  const script = 'mount -t tmpfs -o "$1" none "$2" && shift 2 && exec "$@"';
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', options, mountPoint, process.execPath, alBin, 'train', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('--out on a read-only file system or a full disk exits 2 naming the path and the cause', { skip: !namespaces && 'unshare -rm is not permitted here' }, () => {
  const quick = [...mlp, '--limit', '64', '--batch', '64', '--epochs', '1'];
  const ro = join(work, 'ro');
  refused(inMount(ro, 'ro,size=1m', [...quick, '--out', join(ro, 'run')]), new RegExp(`${ro}/run: the file system is read-only`));
  // 1 MB takes config.json but not the MLP's 160 MB checkpoint
  const full = join(work, 'full');
  const r = inMount(full, 'size=1m', [...quick, '--out', join(full, 'run')]);
  refused(r, new RegExp(`${full}/run/checkpoint.safetensors: the disk is full`));
});

test('a FIFO where a data file should be is reported as such, not as a missing file', () => {
  const data = join(work, 'fifo-data');
  mkdirSync(data);
  for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    assert.equal(spawnSync('mkfifo', [join(data, name)]).status, 0);
  }
  refused(runAl(['train', ...mlp, '--data-dir', data, '--out', join(work, 'fifo-run')]),
    new RegExp(`${data}/train-images-idx3-ubyte: expected a file, found a named pipe \\(FIFO\\)`));
});
