// The run directory of docs/cli.md: config.json, metrics.jsonl and checkpoints.
// Whole files are written atomically (temporary file in the same folder, flushed to disk, then
// renamed over the old one), so an interrupted run never leaves a half-written file where a good
// one was.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A run directory that cannot be used or written: exit 2, naming the path and the cause in words. */
export class RunDirError extends Error {
  override name = 'RunDirError';
  constructor(readonly path: string, cause: string) {
    super(`${path}: ${cause}`);
  }
}

/** The causes of a failed write a user can do something about, in words. */
const WRITE_CAUSES: Record<string, string> = {
  EACCES: 'permission denied (no write access there)',
  EPERM: 'not permitted (a read-only or special file system?)',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'a folder stands where the file goes',
  EEXIST: 'something else already stands there',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'the device reported an input/output error',
};

/**
 * A failed file operation as a RunDirError naming the path it failed on (or `fallback`) and the
 * cause in words; any other error comes back unchanged.
 */
export function writeError(error: unknown, fallback: string): unknown {
  const e = error as NodeJS.ErrnoException;
  const cause = typeof e?.code === 'string' ? WRITE_CAUSES[e.code] : undefined;
  if (cause === undefined) return error;
  // a temporary file's name means nothing to the user: name the file it was to become
  return new RunDirError(e.path?.replace(/\.tmp-\d+$/, '') ?? fallback, cause);
}

/** Runs `write`, turning a failed file operation into a RunDirError (see writeError). */
export function guardWrite<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    throw writeError(error, path);
  }
}

/** The temporary name writeFileAtomic uses for `path` (tests put obstacles there). */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Writes `data` to `path` and flushes it to disk; on failure the partial file is removed. */
export function writeFileDurable(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const fd = openSync(path, 'w');
  try {
    try {
      for (const bytes of chunks) for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
      // Without the flush, a power loss right after a rename can leave an empty file there.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    rmSync(path, { force: true }); // ours: openSync created or truncated it
    // a failed write or flush does not say which file it was
    (error as NodeJS.ErrnoException).path ??= path;
    throw error;
  }
}

/** Writes `data` to a temporary file, flushes it, then renames it to `path`; on failure `path` is untouched. */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const tmp = temporaryPath(path);
  writeFileDurable(tmp, data);
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** mkdir -p. Node's recursive mkdir reports ENOENT for any folder it could not create (a read-only file system, say): made one by one, the real cause shows. */
function makeDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const missing: string[] = [];
    for (let p = resolve(path); !existsSync(p) && dirname(p) !== p; p = dirname(p)) missing.unshift(p);
    for (const p of missing) mkdirSync(p);
  }
}

/** Files that only a run writes: a folder holding any of them is not a fresh run's. */
const RUN_FILES = ['config.json', 'checkpoint.json', 'checkpoint.safetensors', 'checkpoint.prev.safetensors', 'metrics.jsonl'];

export class RunDir {
  constructor(readonly path: string) {
    const st = guardWrite(path, () => statSync(path, { throwIfNoEntry: false }));
    if (st !== undefined && !st.isDirectory()) throw new RunDirError(path, `expected a folder for the run, found ${st.isFile() ? 'a file' : 'something else'} there`);
    guardWrite(path, () => makeDir(path));
  }

  writeConfig(config: object): void {
    const file = join(this.path, 'config.json');
    guardWrite(file, () => writeFileAtomic(file, JSON.stringify(config, null, 2) + '\n'));
  }

  appendMetrics(record: object): void {
    const file = join(this.path, 'metrics.jsonl');
    guardWrite(file, () => appendFileSync(file, JSON.stringify(record) + '\n'));
  }

  /** The files of a run the directory holds (config.json, checkpoint, metrics), by name. */
  runFiles(): string[] {
    return RUN_FILES.filter((name) => existsSync(join(this.path, name)));
  }

  /** True when the directory already holds a run (its config.json). */
  holdsRun(): boolean {
    return existsSync(join(this.path, 'config.json'));
  }

  /**
   * Keeps the metrics lines of epochs 1..`epoch` only: a resume from that epoch's checkpoint
   * would otherwise repeat lines written after it (or after a line torn by a crash). Returns the
   * number of lines dropped.
   */
  trimMetrics(epoch: number): number {
    return this.trimLines('metrics.jsonl', epoch);
  }

  /** Keeps the lines of a JSON-lines file whose epoch is at most `epoch` (see trimMetrics); returns the number dropped. */
  trimLines(name: string, epoch: number): number {
    const file = join(this.path, name);
    if (!existsSync(file)) return 0;
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const kept = lines.filter((line) => {
      try {
        const record = JSON.parse(line) as { epoch?: unknown };
        return typeof record.epoch === 'number' && record.epoch <= epoch;
      } catch {
        return false;
      }
    });
    if (kept.length !== lines.length) writeFileAtomic(file, kept.map((l) => l + '\n').join(''));
    return lines.length - kept.length;
  }

  file(name: string): string {
    return join(this.path, name);
  }
}

/** runs/<model>-<dataset>-<method>-<timestamp> */
export function defaultRunPath(model: string, dataset: string, method: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return join('runs', `${model}-${dataset}-${method}-${stamp}`);
}
