// The run directory of docs/cli.md: config.json, metrics.jsonl and checkpoints.
// Whole files are written atomically (temporary file in the same folder, flushed to disk, then
// renamed over the old one), so an interrupted run never leaves a half-written file where a good
// one was.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The temporary name writeFileAtomic uses for `path` (tests put obstacles there). */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Writes `data` to `path` and flushes it to disk; on failure the partial file is removed. */
export function writeFileDurable(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(path, 'w');
  try {
    try {
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
      // Without the flush, a power loss right after a rename can leave an empty file there.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    rmSync(path, { force: true }); // ours: openSync created or truncated it
    throw error;
  }
}

/** Writes `data` to a temporary file, flushes it, then renames it to `path`; on failure `path` is untouched. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = temporaryPath(path);
  writeFileDurable(tmp, data);
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

export class RunDir {
  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
  }

  writeConfig(config: object): void {
    writeFileAtomic(join(this.path, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  }

  appendMetrics(record: object): void {
    appendFileSync(join(this.path, 'metrics.jsonl'), JSON.stringify(record) + '\n');
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
