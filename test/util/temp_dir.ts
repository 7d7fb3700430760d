// Temporary directories for tests, removed when the test process ends. `node --test` runs each
// test file in its own process, so removing them on 'exit' cleans up after every test of the
// file, also one whose assertion failed before any cleanup of its own could run. Before this, one
// `npm test` left hundreds of directories in /tmp, some holding 1.5 GB of checkpoints; CI disks
// are small. A test whose directory is large may also remove it itself as soon as it is done.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
let registered = false;

function removeAll(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

// 'exit' does not fire when a signal ends the process: Ctrl-C on `npm test` (SIGINT to the whole
// process group) or a CI job cancelled (SIGTERM) would leave the directories behind.
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
function onSignal(signal: NodeJS.Signals): void {
  // Another listener (e.g. `al train` run in-process stopping at the end of its batch) decides
  // whether the process ends, and may still be writing into a directory: leave them to 'exit'.
  if (process.listenerCount(signal) > 1) return;
  removeAll();
  for (const s of signals) process.removeListener(s, onSignal);
  // with no listener left the signal's default action applies again: end as the signal would have
  process.kill(process.pid, signal);
}

/** A fresh directory `<os tmpdir>/<prefix>XXXXXX`, removed with all it holds when the process ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!registered) {
    process.once('exit', removeAll);
    for (const s of signals) process.on(s, onSignal);
    registered = true;
  }
  made.push(dir);
  return dir;
}
