// Stage processes on this machine (`al train --processes N`, and the tests): N `al stage`
// processes listening on 127.0.0.1 on free ports, sharing a random token and a CurveZMQ keypair
// made for this run, which only they and this coordinator know (both go through the environment,
// out of `ps`): their traffic is encrypted like that of stages on other hosts, with no flags.
// Each is told to serve one run, and to end when this process's end of its stdin closes, so none
// outlives a coordinator that died.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generateKeys, type CurveKeys } from './curve.js';
import type { StageProcesses } from './stage_group.js';

const alBin = fileURLToPath(new URL('../../../../bin/al.js', import.meta.url));

export interface LocalStages {
  addresses: string[];
  token: string;
  /** the run's keypair, shared by the coordinator and every stage (null with `insecure`) */
  keys: CurveKeys | null;
  /** what a pipeline is started with to run on these stages */
  processes: StageProcesses;
  children: ChildProcess[];
  /** what each child wrote to stderr so far */
  stderr: string[];
  /** waits (bounded) for the children to end after their run, then kills any left */
  stop(): Promise<void>;
}

/** Closes each child's stdin (how a `--once` stage or a bench peer is told to end) and waits,
 * bounded, for it to exit, killing any left after 5 s. */
export async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(children.map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin!.end();
  })));
}

/** `insecure`: without encryption (a comparison; the stages stay on loopback either way) */
export async function startLocalStages(count: number, options: { timeoutMs?: number; insecure?: boolean } = {}): Promise<LocalStages> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const token = randomBytes(24).toString('hex');
  const keys = options.insecure ? null : generateKeys();
  // AL_KEY (a key file for --stages) would take precedence over the run's own keypair
  const { AL_KEY: _file, ...inherited } = process.env;
  const env = { ...inherited, AL_TOKEN: token, ...(keys ? { AL_KEYPAIR: `${keys.publicKey} ${keys.secretKey}` } : {}) };
  const stderr: string[] = new Array<string>(count).fill('');
  const children = Array.from({ length: count }, (_, k) => {
    const child = spawn(process.execPath, [alBin, 'stage', '--listen', '127.0.0.1:0', '--once', ...(keys ? [] : ['--insecure'])], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr[k] += d.toString()));
    return child;
  });
  const stop = (): Promise<void> => stopChildren(children);
  try {
    const addresses = await Promise.all(children.map((child, k) => new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`stage process ${k + 1} did not start listening within ${timeoutMs / 1000} s: ${stderr[k]}`)), timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`stage process ${k + 1} exited (code ${code}) before listening: ${stderr[k]}`));
      });
    })));
    const processes: StageProcesses = { addresses, token, ...(keys ? { curve: { keys, stageKeys: addresses.map(() => keys.publicKey) } } : {}) };
    return { addresses, token, keys, processes, children, stderr, stop };
  } catch (error) {
    children.forEach((child) => child.kill('SIGKILL'));
    throw error;
  }
}
