// Runs `al train` and sends it Ctrl-C (SIGINT) `delayMs` after the first epoch's line appears
// (printed once that epoch's checkpoint is written), as a user would interrupt a long run.
import { spawn } from 'node:child_process';

export async function interruptAfterFirstEpoch(al: string, args: string[], epochs: number, delayMs: number): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [al, 'train', ...args, '--epochs', String(epochs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (stdout.includes(`epoch 1/${epochs}`)) {
        clearInterval(poll);
        setTimeout(() => {
          child.kill('SIGINT');
          resolve();
        }, delayMs);
      }
    }, 50);
  });
  return { code: await exited, stdout };
}
