// Node side of the PyTorch reference in `al bench`: spawns bench/torch_bench.py
// with Debian's python (the one that has python3-torch), parses the JSON it
// prints on its last stdout line, and picks PyTorch's best thread setting per
// workload. A benchmark must never fail because PyTorch is missing or broken,
// so every failure of the Python side comes back as `{ unavailable: reason }`.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Workload names understood by bench/torch_bench.py (the contract with it). */
export const TORCH_WORKLOADS = [
  'matmul-2048',
  'matmul-128x784x1024',
  'matmul-128x1024x5120',
  'conv-fwd',
  'conv-bwd-data',
  'conv-bwd-weights',
  'train-mlp',
  'train-cnn',
  'train-resnet20',
  // Associated Learning (AL) training, one local step per AL layer: the
  // MNIST MLP (2 layers, n = 1024) and CNN (4 layers, n = 256) of src/al/.
  'train-al-mlp',
  'train-al-cnn',
] as const;

export type TorchWorkload = (typeof TORCH_WORKLOADS)[number];
export type TorchUnit = 'GFLOP/s' | 'samples/s';

export interface TorchBenchRow {
  workload: string;
  threads: number;
  /** Median over the measured segments of the fastest variant. */
  value: number;
  unit: TorchUnit;
  /** Which variant `value` came from, e.g. 'channels_last/mkldnn', 'nchw', 'mm', 'mkldnn'. */
  variant: string;
  /** Median figure of every variant tried, so a report can show the losers too. */
  candidates: Record<string, number>;
  /** Per-segment figures of the winning variant (spread = measurement noise). */
  samples: number[];
  /** Trainable parameter count, training workloads only (architecture check). */
  params?: number;
}

export interface TorchBuildConfig {
  blasInfo: string | null;
  mkldnn: string | null;
  mkldnnAvailable: boolean;
  mklAvailable: boolean;
  parallelBackend: string | null;
}

export interface TorchBenchResult {
  torch: string;
  isa: string;
  config: TorchBuildConfig | null;
  quick: boolean;
  /** 1/5/15-minute load averages around the run: a busy machine skews figures. */
  loadavgStart: number[] | null;
  loadavgEnd: number[] | null;
  results: TorchBenchRow[];
  /** Requested workloads PyTorch has no counterpart for (not sent to Python). */
  skipped: string[];
}

export interface TorchUnavailable {
  unavailable: string;
}

export interface TorchBenchOptions {
  workloads: string[];
  threads: number[];
  quick: boolean;
  /** Interpreter to use; Debian's system python is the one with python3-torch. */
  python?: string;
  /** Path of torch_bench.py; found from the package root by default. */
  script?: string;
  /** Whole-run limit; by default scaled by workloads x threads. */
  timeoutMs?: number;
  /** Limit for the `import torch` check (a cold import takes seconds). */
  probeTimeoutMs?: number;
  /** Receives the script's stderr when the run fails; default process.stderr. */
  onStderr?: (text: string) => void;
  /** Receives each progress line the script logs while it runs (optional). */
  onProgress?: (line: string) => void;
}

export const DEFAULT_PYTHON = '/usr/bin/python3';

export function isTorchUnavailable(r: TorchBenchResult | TorchUnavailable): r is TorchUnavailable {
  return 'unavailable' in r;
}

/**
 * Finds bench/torch_bench.py by walking up from this module: the compiled file
 * runs from dist/src/bench/, the source from src/bench/, so the depth differs.
 */
export function defaultTorchBenchScript(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'bench', 'torch_bench.py');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

/** Default whole-run timeout: generous, since a loaded machine slows everything. */
export function defaultTimeoutMs(workloads: number, threads: number, quick: boolean): number {
  // Measured on the 2-core dev box: ~3-6 s per (workload, threads) figure in
  // full mode (2 variants x ~1.5 s plus setup; the reference-BLAS 2048^3 mm
  // costs ~12 s; train-al-cnn, ~1-2 s a step, 7-11 s and 15-21 s with another
  // job on the box), under 2 s in quick mode. 5x headroom plus the torch import;
  // the budget is for the whole run, so one slow figure borrows from the rest.
  const perFigureMs = quick ? 10_000 : 30_000;
  return 60_000 + workloads * threads * perFigureMs;
}

interface ProcessOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  spawnError?: Error;
  timedOut: boolean;
}

function runProcess(
  cmd: string,
  args: string[],
  timeoutMs: number,
  onStderrLine?: (line: string) => void,
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let pending = '';
    let timedOut = false;
    let settled = false;
    // The environment is inherited unchanged on purpose: the machine's BLAS
    // tuning variables (OPENBLAS_CORETYPE, ...) must reach Python as they are.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const finish = (o: Omit<ProcessOutcome, 'stdout' | 'stderr' | 'timedOut'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (pending && onStderrLine) onStderrLine(pending);
      resolve({ ...o, stdout, stderr, timedOut });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (onStderrLine) {
        pending += d;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) onStderrLine(l);
      }
    });
    child.on('error', (err) => finish({ code: null, signal: null, spawnError: err }));
    child.on('close', (code, signal) => finish({ code, signal }));
  });
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

function describeFailure(what: string, o: ProcessOutcome, timeoutMs: number): string {
  if (o.spawnError) return `${what}: cannot start (${o.spawnError.message})`;
  if (o.timedOut) return `${what}: timed out after ${Math.round(timeoutMs / 1000)} s`;
  const status = o.signal ? `killed by ${o.signal}` : `exit code ${o.code}`;
  const tail = lastLines(o.stderr, 1);
  return tail ? `${what}: ${status}: ${tail}` : `${what}: ${status}`;
}

function fail(msg: string): never {
  throw new Error(`torch_bench output: ${msg}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${what} is not a finite number`);
  return v;
}

function numberArrayOrNull(v: unknown, what: string): number[] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v)) fail(`${what} is not an array`);
  return v.map((x, i) => finiteNumber(x, `${what}[${i}]`));
}

function parseRow(r: unknown, i: number): TorchBenchRow {
  const at = `results[${i}]`;
  if (!isRecord(r)) fail(`${at} is not an object`);
  if (typeof r.workload !== 'string' || r.workload === '') fail(`${at}.workload is not a name`);
  const threads = finiteNumber(r.threads, `${at}.threads`);
  if (!Number.isInteger(threads) || threads < 1) fail(`${at}.threads is not a positive integer`);
  const value = finiteNumber(r.value, `${at}.value`);
  if (r.unit !== 'GFLOP/s' && r.unit !== 'samples/s') fail(`${at}.unit ${JSON.stringify(r.unit)} is unknown`);
  if (typeof r.variant !== 'string') fail(`${at}.variant is not a string`);
  const candidates: Record<string, number> = {};
  if (r.candidates !== undefined) {
    if (!isRecord(r.candidates)) fail(`${at}.candidates is not an object`);
    for (const [k, v] of Object.entries(r.candidates)) candidates[k] = finiteNumber(v, `${at}.candidates.${k}`);
  } else {
    candidates[r.variant] = value;
  }
  const row: TorchBenchRow = {
    workload: r.workload,
    threads,
    value,
    unit: r.unit,
    variant: r.variant,
    candidates,
    samples: numberArrayOrNull(r.samples, `${at}.samples`) ?? [value],
  };
  if (r.params !== undefined) {
    const p = finiteNumber(r.params, `${at}.params`);
    if (!Number.isInteger(p) || p < 0) fail(`${at}.params is not a count`);
    row.params = p;
  }
  return row;
}

function parseConfig(c: unknown): TorchBuildConfig | null {
  if (!isRecord(c)) return null;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    blasInfo: str(c.blas_info),
    mkldnn: str(c.mkldnn),
    mkldnnAvailable: c.mkldnn_available === true,
    mklAvailable: c.mkl_available === true,
    parallelBackend: str(c.parallel_backend),
  };
}

/**
 * Parses torch_bench.py's stdout: only the last non-empty line is the result
 * (anything before it is a human table or stray prints). Throws on anything
 * that does not match the contract, naming the offending field.
 */
export function parseTorchBenchOutput(stdout: string, skipped: string[] = []): TorchBenchResult {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1);
  if (last === undefined) fail('stdout is empty');
  let raw: unknown;
  try {
    raw = JSON.parse(last);
  } catch {
    fail(`last line is not JSON: ${last.slice(0, 120)}`);
  }
  if (!isRecord(raw)) fail('last line is not a JSON object');
  if (typeof raw.torch !== 'string') fail('"torch" (version) missing');
  if (!Array.isArray(raw.results)) fail('"results" is not an array');
  return {
    torch: raw.torch,
    isa: typeof raw.isa === 'string' ? raw.isa : 'unknown',
    config: parseConfig(raw.config),
    quick: raw.quick === true,
    loadavgStart: numberArrayOrNull(raw.loadavg_start, 'loadavg_start'),
    loadavgEnd: numberArrayOrNull(raw.loadavg_end, 'loadavg_end'),
    results: raw.results.map(parseRow),
    skipped,
  };
}

export interface BestFigure {
  value: number;
  threads: number;
  variant: string;
  unit: TorchUnit;
  params?: number;
}

/**
 * PyTorch at its best thread setting: per workload, the row with the highest
 * value. On a tie the fewer-thread row wins (same speed for fewer cores).
 */
export function bestByWorkload(result: Pick<TorchBenchResult, 'results'>): Map<string, BestFigure> {
  const best = new Map<string, BestFigure>();
  for (const r of result.results) {
    const cur = best.get(r.workload);
    if (cur === undefined || r.value > cur.value || (r.value === cur.value && r.threads < cur.threads)) {
      const fig: BestFigure = { value: r.value, threads: r.threads, variant: r.variant, unit: r.unit };
      if (r.params !== undefined) fig.params = r.params;
      best.set(r.workload, fig);
    }
  }
  return best;
}

/**
 * Runs the PyTorch side of `al bench`. Resolves to `{ unavailable }` (never
 * rejects) when python or torch is missing, or the script fails, times out or
 * prints something unparsable; rejects only on invalid options (a caller bug).
 */
export async function runTorchBench(options: TorchBenchOptions): Promise<TorchBenchResult | TorchUnavailable> {
  for (const t of options.threads) {
    if (!Number.isInteger(t) || t < 1) throw new TypeError(`runTorchBench: threads must be positive integers, got ${t}`);
  }
  if (options.threads.length === 0) throw new TypeError('runTorchBench: threads is empty');
  const python = options.python ?? DEFAULT_PYTHON;
  const onStderr = options.onStderr ?? ((text: string) => void process.stderr.write(text));

  // Our bench may list workloads PyTorch has no twin for (e.g. AL-specific
  // ones); those are skipped rather than failing the whole reference run.
  const known = new Set<string>(TORCH_WORKLOADS);
  const workloads = [...new Set(options.workloads)].filter((w) => known.has(w));
  const skipped = options.workloads.filter((w) => !known.has(w));
  if (workloads.length === 0) return { unavailable: 'no requested workload has a PyTorch counterpart' };

  const script = options.script ?? defaultTorchBenchScript();
  if (script === null || !existsSync(script)) {
    return { unavailable: `torch_bench.py not found${script ? ` at ${script}` : ' next to the package'}` };
  }

  // Checked separately so "no torch" reads as such instead of as a crash of
  // the benchmark script.
  const probeTimeoutMs = options.probeTimeoutMs ?? 60_000;
  const probe = await runProcess(python, ['-c', 'import torch, sys; sys.stdout.write(torch.__version__)'], probeTimeoutMs);
  if (probe.spawnError || probe.timedOut || probe.code !== 0) {
    return { unavailable: describeFailure(`PyTorch not importable by ${python}`, probe, probeTimeoutMs) };
  }

  const args = [script, '--workloads', workloads.join(','), '--threads', options.threads.join(','), '--json'];
  if (options.quick) args.push('--quick');
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs(workloads.length, options.threads.length, options.quick);
  const run = await runProcess(python, args, timeoutMs, options.onProgress);
  if (run.spawnError || run.timedOut || run.code !== 0) {
    if (run.stderr) onStderr(run.stderr.endsWith('\n') ? run.stderr : `${run.stderr}\n`);
    return { unavailable: describeFailure('torch_bench.py failed', run, timeoutMs) };
  }
  try {
    return parseTorchBenchOutput(run.stdout, skipped);
  } catch (err) {
    if (run.stderr) onStderr(run.stderr.endsWith('\n') ? run.stderr : `${run.stderr}\n`);
    return { unavailable: (err as Error).message };
  }
}
