// Runs the `al` command line in a child process, as a user would, for the end-to-end tests.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const alBin = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'bin', 'al.js');

export interface CliResult { code: number; stdout: string; stderr: string }

/** `al ARGS` to completion; a child still running after `timeoutMs` is killed (code -1). */
export function runAl(args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [alBin, ...args], {
    encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
