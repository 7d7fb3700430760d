// Runs `al ARGS` in a child process for the reproduce commands: a crash stays one run's
// problem, and signals reach the child so that none outlives the command.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const alBin = fileURLToPath(new URL('../../../../bin/al.js', import.meta.url));

/** Signals passed on to the running `al` child, so that none outlives this process. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs `al ARGS` in a child process. Ctrl-C (the child stops after its batch) and SIGTERM or
 * SIGHUP (e.g. a job being cancelled) are passed on, and this process ends once the child has.
 * Resolves to its stdout when `capture`.
 */
export function runAl(args: string[], capture = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [alBin, ...args], { stdio: ['ignore', capture ? 'pipe' : 'ignore', 'inherit'] });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const s of FORWARDED) process.once(s, forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const s of FORWARDED) process.removeListener(s, forward);
      if (code === 0) resolve(stdout);
      else reject(new Error(`al ${args.join(' ')}: exited with ${signal ?? `code ${code}`}`));
    });
  });
}
