// One writer per run directory: a live holder's lock is refused naming its pid, a dead holder's is
// taken over, release removes only our own lock, and temporary files of dead processes go.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { RunDirError } from '../../../src/train/run_dir.js';
import { LOCK_FILE, lockRunDir, processAlive, removeStaleTemporaries } from '../../../src/train/run_lock.js';
import { tempDir } from '../../util/temp_dir.js';

const lockModule = pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'src', 'train', 'run_lock.js')).href;

/** The pid of a process that has ended (and, in a test's few milliseconds, not been reused). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** Another process holding `dir`'s lock until killed; resolves once it holds it. */
async function holder(dir: string): Promise<ReturnType<typeof spawn>> {
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `const { lockRunDir } = await import(${JSON.stringify(lockModule)}); lockRunDir(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

test('a lock held by a live process is refused naming its pid; once it is killed the lock is taken over', async () => {
  const dir = tempDir('al-lock-');
  const child = await holder(dir);
  try {
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, child.pid);
    assert.throws(() => lockRunDir(dir), (e: unknown) => e instanceof RunDirError &&
      e.message === `${dir}: in use by process ${child.pid} (${join(dir, LOCK_FILE)}); wait for it to end or stop it first`);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  // SIGKILL left the lock behind: stale now
  assert.ok(existsSync(join(dir, LOCK_FILE)));
  const lock = lockRunDir(dir);
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  assert.deepEqual(readdirSync(dir), [LOCK_FILE], 'no temporary lock file left');
  lock.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
});

test('an unreadable lock file counts as stale; release leaves a lock another process took', () => {
  const dir = tempDir('al-lock-');
  writeFileSync(join(dir, LOCK_FILE), 'garbage');
  const lock = lockRunDir(dir);
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1 }));
  lock.release();
  assert.ok(existsSync(join(dir, LOCK_FILE)), 'not ours any more: kept');
});

test('removeStaleTemporaries removes temporary files of dead processes only', () => {
  const dir = tempDir('al-lock-');
  const dead = deadPid();
  assert.ok(!processAlive(dead));
  assert.ok(processAlive(process.pid));
  const names = [`checkpoint.safetensors.tmp-${dead}`, `config.json.tmp-${dead}`, `checkpoint.safetensors.tmp-${process.pid}`, 'checkpoint.safetensors', 'notes.tmp-x'];
  for (const name of names) writeFileSync(join(dir, name), '');
  mkdirSync(join(dir, `metrics.jsonl.tmp-${dead}`));
  assert.deepEqual(removeStaleTemporaries(dir).sort(), [`checkpoint.safetensors.tmp-${dead}`, `config.json.tmp-${dead}`, `metrics.jsonl.tmp-${dead}`]);
  assert.deepEqual(readdirSync(dir).sort(), [`checkpoint.safetensors.tmp-${process.pid}`, 'checkpoint.safetensors', 'notes.tmp-x'].sort());
});

test('processes racing for a dead holder\'s lock: exactly one gets it', async () => {
  const dir = tempDir('al-lock-');
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid() }));
  // every racer starts at the same moment, whenever its node started
  const start = Date.now() + 1500;
  const script = `const { lockRunDir } = await import(${JSON.stringify(lockModule)});
    while (Date.now() < ${start});
    try { lockRunDir(${JSON.stringify(dir)}); console.log('held'); setTimeout(() => {}, 1500); } catch (e) { console.log(e.name); }`;
  const racers = Array.from({ length: 6 }, () => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const outcomes = await Promise.all(racers.map((child) => new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => resolve(out.trim()));
  })));
  assert.deepEqual(outcomes.sort(), ['RunDirError', 'RunDirError', 'RunDirError', 'RunDirError', 'RunDirError', 'held']);
});
