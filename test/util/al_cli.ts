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

/** A keypair made by `al keygen` in `dir`; returns the .key file (for --key or AL_KEY). */
export function makeKeyPair(dir: string, name = 'al'): string {
  const r = runAl(['keygen', '--out', dir, '--name', name], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`al keygen failed (${r.code}): ${r.stderr}`);
  return join(dir, `${name}.key`);
}
