// One writer per run directory. Two `al train` processes writing the same checkpoint would each
// commit epochs of their own, so that the pair on disk belongs to neither; the lock file makes the
// second one stop before it writes anything. It names the holder's pid; a lock whose holder is
// gone (killed, crashed, the machine restarted) is taken over, so no stale lock needs removing by
// hand. Temporary files that dead processes left behind (writeFileAtomic names them
// `<file>.tmp-<pid>`) are removed once the lock is held, when no other writer can own them.
import { linkSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunDirError, writeFileDurable } from './run_dir.js';

export const LOCK_FILE = 'al.lock';

/** A live process: kill(pid, 0) succeeds, or fails only because it belongs to someone else. */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid a lock file names, or undefined for an unreadable or foreign one. */
function holderOf(file: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface RunLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the lock of run directory `dir`, or throws a RunDirError naming the pid that holds it.
 * Released by release() or, should the process end another way, at exit.
 */
export function lockRunDir(dir: string): RunLock {
  const file = join(dir, LOCK_FILE);
  const mine = `${file}.tmp-${process.pid}`;
  // written whole before it is linked in: a reader never sees a half-written lock
  writeFileDurable(mine, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }) + '\n');
  try {
    // link() is the exclusive step: it fails when a lock is there, whoever put it there first
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, file);
        return held(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = holderOf(file);
      if (holder !== undefined && holder !== process.pid && processAlive(holder)) {
        throw new RunDirError(dir, `in use by process ${holder} (${file}); wait for it to end or stop it first`);
      }
      if (attempt > 3) throw new RunDirError(dir, `cannot take the lock ${file}: other processes keep taking it`);
      removeStaleLock(file, holder);
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

/**
 * Moves a dead holder's lock aside (one process's rename succeeds) and deletes it. Should another
 * process have taken the lock in between, the lock moved aside is theirs: it is put back.
 */
function removeStaleLock(file: string, stale: number | undefined): void {
  const aside = `${file}.aside.tmp-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it
    throw error;
  }
  try {
    if (holderOf(aside) !== stale) linkSync(aside, file);
  } catch {
    // a third lock appeared meanwhile: the next attempt finds it
  } finally {
    rmSync(aside, { force: true });
  }
}

function held(file: string): RunLock {
  const release = (): void => {
    process.removeListener('exit', release);
    if (holderOf(file) === process.pid) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, release };
}

/** Removes `<name>.tmp-<pid>` files of processes that are gone; returns their names. */
export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = /\.tmp-(\d+)$/.exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true, recursive: true });
    removed.push(name);
  }
  return removed;
}
