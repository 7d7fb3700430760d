// Signals that arrive while oneDNN computes. oneDNN 2.6's sgemm JIT kernels point rsp at a heap
// workspace (uxlfoundation/oneDNN#4845), so a signal handler running during one of them writes its
// frame into the heap; the addon holds signals back while it is in oneDNN (native/signals.h).
// Each test runs matmuls in a child process, with a SIGUSR2 listener, while this process sends it
// SIGUSR2 without pause. Without the fix the child usually dies of heap corruption within a second
// ("corrupted size vs. prev_size", "unaligned tcache chunk", SIGSEGV); whether a given workspace
// has a heap header in reach of the signal frame depends on the heap's layout, so the tests also
// check the mechanism itself, which does not depend on luck: the computing thread holds SIGUSR2
// blocked while it is in a kernel, and the OpenMP workers never accept it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

interface ChildReport {
  calls: number;
  handled: number;
  /** SigBlk of the threads the kernels started (OpenMP workers), from /proc */
  newThreadMasks: string[];
}

// Products of the MLP's training step at batch 128 that run in the sgemm kernel with a heap
// workspace on AVX2: the input gradients of the 784 -> 1024 and 1024 -> 5120 layers and the first
// layer's forward product. [m, k, n, transB]
const SHAPES = [[128, 1024, 784, false], [128, 784, 1024, true], [128, 5120, 1024, false]] as const;

const childCode = (moduleUrl: string, threads: number, ms: number): string => `
  import { readdirSync, readFileSync } from 'node:fs';
  const { nativeBackend: N } = await import(${JSON.stringify(moduleUrl)});
  const tasks = () => new Set(readdirSync('/proc/self/task'));
  const before = tasks();
  N.setNumThreads(${threads});
  let handled = 0;
  process.on('SIGUSR2', () => { handled++; });
  const work = ${JSON.stringify(SHAPES)}.map(([m, k, n, transB]) => ({
    a: new Float32Array(m * k).fill(0.5), b: new Float32Array(k * n).fill(0.25), out: new Float32Array(m * n),
    attrs: { m, k, n, transA: false, transB, accumulate: false },
  }));
  process.send('ready');
  const churn = [];
  let calls = 0, seed = 1;
  for (const end = performance.now() + ${ms}; performance.now() < end; calls++) {
    for (const w of work) {
      // a malloc'd buffer of a new size before every product moves its workspace elsewhere
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      churn.push(Buffer.allocUnsafeSlow(16 + ((seed >>> 16) % 4096)));
      N.matmul(w.a, w.b, null, w.out, w.attrs);
    }
    if (churn.length > 300) churn.splice(0, 150);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const newThreadMasks = [...tasks()].filter((t) => !before.has(t))
    .map((t) => /SigBlk:\\s*(\\w+)/.exec(readFileSync('/proc/self/task/' + t + '/status', 'utf8'))?.[1] ?? '?');
  process.send({ calls, handled, newThreadMasks });
  process.once('message', () => process.exit(0));
`;

// Bits of a /proc SigBlk mask: signal s is bit s - 1.
const SIGINT_BIT = 1n << 1n;
const SIGSEGV_BIT = 1n << 10n;
const SIGUSR2_BIT = 1n << 11n;

/**
 * The mask SignalsHeld sets: SIGINT and SIGUSR2 blocked, SIGSEGV (a fault of the running code) not.
 * A signal handler's own mask cannot pass for it: libuv's handler blocks every signal while it runs.
 */
function isHeldMask(mask: bigint): boolean {
  return (mask & SIGINT_BIT) !== 0n && (mask & SIGUSR2_BIT) !== 0n && (mask & SIGSEGV_BIT) === 0n;
}

interface StormResult {
  report: ChildReport | null;
  code: number | null;
  signal: string | null;
  stderr: string;
  /** samples of the child's main thread's signal mask (/proc/<pid>/status) during the storm, and how many were SignalsHeld's */
  samples: number;
  held: number;
}

/** Runs the child under a SIGUSR2 storm, sampling its main thread's signal mask meanwhile. */
async function underSignalStorm(threads: number, ms: number): Promise<StormResult> {
  const moduleUrl = new URL('../../src/backend/native_backend.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', childCode(moduleUrl, threads, ms)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
  let storm: NodeJS.Timeout | undefined;
  let samples = 0, held = 0;
  const report = new Promise<ChildReport>((resolve) => {
    child.on('message', (m: 'ready' | ChildReport) => {
      if (m === 'ready') {
        storm = setInterval(() => {
          for (let i = 0; i < 20 && child.exitCode === null && child.signalCode === null; i++) child.kill('SIGUSR2');
          try {
            const mask = /SigBlk:\s*(\w+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
            if (mask !== undefined) {
              samples++;
              if (isHeldMask(BigInt('0x' + mask))) held++;
            }
          } catch {
            // the child has just exited
          }
        }, 1);
      } else {
        resolve(m);
      }
    });
  });
  // a corrupted heap can also deadlock malloc: a child that hangs is killed and reported
  const deadline = setTimeout(() => {
    stderr += `(hung: killed after ${ms + 20_000} ms)`;
    child.kill('SIGKILL');
  }, ms + 20_000);
  const first = await Promise.race([report, exited.then(() => null)]);
  clearInterval(storm);
  if (first !== null) child.send('exit');
  const [code, signal] = await exited;
  clearTimeout(deadline);
  return { report: first, code, signal, stderr, samples, held };
}

// The masks are read from /proc.
const skip = !existsSync('/proc/self/task') && 'needs Linux /proc';

test('signals during matmuls (1 thread) are held until the kernel returns, and the heap survives', { skip }, async () => {
  const { report, code, signal, stderr, samples, held } = await underSignalStorm(1, 1500);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `child died: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  assert.ok(report !== null && report.calls > 0 && report.handled > 100, `the storm reached the child: ${JSON.stringify(report)}`);
  // the child spends most of its time in matmul, so most samples catch it there (about 97 %)
  assert.ok(samples >= 20 && held > samples / 4, `signals held in ${held} of ${samples} samples of the computing thread`);
});

test('signals during matmuls (2 threads): the OpenMP workers never accept them', { skip }, async () => {
  const { report, code, signal, stderr } = await underSignalStorm(2, 1500);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `child died: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  assert.ok(report !== null && report.calls > 0 && report.handled > 100, `the storm reached the child: ${JSON.stringify(report)}`);
  assert.ok(report.newThreadMasks.length > 0, 'a 2-thread matmul started an OpenMP worker');
  for (const mask of report.newThreadMasks) {
    assert.ok(isHeldMask(BigInt('0x' + mask)), `worker signal mask ${mask} lets SIGINT or SIGUSR2 in`);
  }
});
