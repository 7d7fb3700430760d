// The run directory of shared/cli-contract.md: config.json, metrics.jsonl and checkpoints.
// Whole files are written atomically (temporary file in the same folder, then rename), so an
// interrupted run never leaves a half-written file where a good one was.
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
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

  file(name: string): string {
    return join(this.path, name);
  }
}

/** runs/<model>-<dataset>-<method>-<timestamp> */
export function defaultRunPath(model: string, dataset: string, method: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return join('runs', `${model}-${dataset}-${method}-${stamp}`);
}
