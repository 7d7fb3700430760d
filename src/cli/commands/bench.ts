// `al bench`: throughput of the compute core and of BP training, with oneDNN called directly and
// PyTorch (when /usr/bin/python3 can import torch) measured in the same invocation, so every
// figure comes with a ratio against a baseline run on the same machine at the same time.
import { availableParallelism } from 'node:os';
import { KERNEL_WORKLOADS, loadDirectBench, runKernel, type KernelResult } from '../../bench/kernels.js';
import { FULL, QUICK, median, type TimingOptions } from '../../bench/timing.js';
import { TRAINING_WORKLOADS, trainingSamplesPerSec } from '../../bench/training.js';
import { bestByWorkload, runTorchBench, type BestFigure, type TorchBenchResult, type TorchUnavailable } from '../../bench/torch_runner.js';
import { PIPELINE_WORKLOADS, PROJECTION_WORKLOADS, pipelineBench, projectionBench, type PipelineBenchResult } from '../../bench/pipeline.js';
import { PROCESSES_WORKLOAD, processesBench, processesRows, type ProcessesBenchResult } from '../../bench/processes.js';
import { transportBench, transportRows, type TransportBenchResult } from '../../bench/transport.js';
import type { ProjectionRow } from '../../pipeline/plan/projection.js';
import type { Backend } from '../../backend/kernel_names.js';
import { int, parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { machineInfo, useNativeBackend } from '../runtime.js';
import { ProgressBar, stepProgress } from '../progress.js';

const PARTS = ['kernels', 'training', 'pipeline', 'processes', 'transport'] as const;

export const benchUsage = `Usage: al bench [--quick] [--json] [--threads 1,2] [--rounds N] [--batch N] [--only ${PARTS.join('|')}] [--no-torch]

Measures, in one run on this machine:
  - matmul and convolution GFLOP/s through our binding, and oneDNN called directly on the same shapes
    (ours on blocked activations, as training hands them over; convolutions also directly on NHWC
    activations: direct NHWC / direct is what that layout would cost);
  - BP training samples/s (batch 128, forward + backward + Adam) for MLP (28x28x1),
    Vanilla CNN and ResNet-20 (32x32x3), and sequential AL samples/s for the MLP and the
    Vanilla CNN cut the authors' way (28x28x1);
  - the same workloads in PyTorch when /usr/bin/python3 can import torch, with ours/PyTorch ratios
    against PyTorch at its best thread setting; training alternates PyTorch and ours for --rounds
    rounds and gives the median of the rounds' ratios (this shared machine drifts by tens of
    percent over minutes, which one PyTorch-then-ours pass measures as much as the engines);
  - pipelines (MLP and Vanilla CNN cut into 4 AL layers, the CNN also with its units cut 3,1,2,2
    for balanced stages; 28x28x1, batch 128 or --batch): sequential AL on 1
    thread and on every core, pipelined AL on one worker per core (1 thread each), GPipe on the
    same workers with 4 micro-batches, and what the stages would reach against AL on every core
    if they split AL's one-thread work evenly (workers x AL on 1 thread); and samples/s
    projected from costs measured here for 1 to 16 devices (BP, GPipe, pipelined AL) on the
    Vanilla CNN and ResNet-32;
  - processes: pipelined AL on the MLP cut into 4 AL layers, 2 stages of 1 thread, batch 128, on
    worker threads and on 2 stage processes over ZeroMQ on 127.0.0.1, alternating: samples/s of
    each, their ratio, and the time each stage process spends in the transport per batch as a
    share of its step time;
  - transport: ZeroMQ against gRPC (bidirectional streaming, when @grpc/grpc-js is installed)
    between two processes on 127.0.0.1, for the MLP's batch messages (s and t, [128, 1024]
    float32 each) with a credit back for each: MB/s and round trips.

  --quick         shorter timings (noisier)
  --threads LIST  thread counts to measure (default 1 and ${Math.min(2, availableParallelism())})
  --rounds N      training: PyTorch-then-ours rounds; pipelines: rounds of all four methods
                  in turn (default 3; 1 with --quick)
  --only PART     ${PARTS.slice(0, -1).join(', ')} or ${PARTS[PARTS.length - 1]}
  --batch N       pipelines and projections: the mini-batch (default 128; a small one shows
                  what per-batch costs such as optimizer updates do to the stages)
  --no-torch      skip PyTorch
  --json          print one JSON object with every figure as the last stdout line
`;

const flags: FlagSpec = {
  quick: { type: 'boolean' }, json: { type: 'boolean' }, threads: { type: 'string' },
  only: { type: 'string' }, 'no-torch': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  rounds: { type: 'string' }, batch: { type: 'string' },
};

function parseRounds(value: string | undefined, quick: boolean): number {
  if (value === undefined) return quick ? 1 : 3;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new UsageError(`--rounds: expected an integer from 1 to 20, got '${value}'`);
  return n;
}

function parseThreads(value: string | undefined): number[] {
  if (value === undefined) return [...new Set([1, Math.min(2, availableParallelism())])];
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) {
    throw new UsageError(`--threads: expected a comma-separated list of integers from 1 to 256, got '${value}'`);
  }
  return list;
}

const fmt = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

interface TrainingFigure {
  workload: string;
  threads: number;
  /** medians over the rounds */
  samplesPerSec: number;
  torchSamplesPerSec: number | undefined;
  /** median of the rounds' ours / PyTorch best */
  ratio: number | undefined;
  params: number;
  rounds: { ours: number; torch: number | undefined; torchThreads: number | undefined }[];
}

/** What every part of a run shares: the backend, the settings, and where the table lines go. */
interface BenchRun {
  backend: Backend;
  threads: number[];
  timing: TimingOptions;
  rounds: number;
  /** the pipelines' mini-batch */
  batch: number;
  progress: ProgressBar;
  out: (line: string) => void;
  /** PyTorch on these workloads, run alone, before ours, so the two never compete for the cores */
  runTorch: (workloads: string[]) => Promise<TorchBenchResult | TorchUnavailable>;
}

const bestOf = (torch: TorchBenchResult | TorchUnavailable): Map<string, BestFigure> => ('unavailable' in torch ? new Map() : bestByWorkload(torch));

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, flags);
  if (values['help']) {
    process.stdout.write(benchUsage);
    return 0;
  }
  const threads = parseThreads(str(values, 'threads'));
  const only = str(values, 'only');
  if (only !== undefined && !(PARTS as readonly string[]).includes(only)) throw new UsageError(`--only: expected ${PARTS.slice(0, -1).join(', ')} or ${PARTS[PARTS.length - 1]}, got '${only}'`);
  const timing = values['quick'] ? QUICK : FULL;
  const rounds = parseRounds(str(values, 'rounds'), timing === QUICK);
  const batch = int(values, 'batch', 128, 1, 4096);
  const json = values['json'] === true;
  // a bar on stderr (terminals only, --json or not) through the long parts: minutes each
  const bar = new ProgressBar();
  const out = (line: string): void => {
    bar.clear();
    if (!json) process.stdout.write(line + '\n');
  };

  const backend = await useNativeBackend();
  const machine = machineInfo(backend);
  out(`machine: ${machine['cpu']}, ${machine['cores']} cores, oneDNN ISA ${machine['isa']}, node ${machine['node']}`);
  const runTorch = async (workloads: string[]): Promise<TorchBenchResult | TorchUnavailable> =>
    values['no-torch'] || workloads.length === 0 ? { unavailable: 'skipped' } : await runTorchBench({ workloads, threads, quick: timing === QUICK });
  const run: BenchRun = { backend, threads, timing, rounds, batch, progress: bar, out, runTorch };
  const runs = (part: (typeof PARTS)[number]): boolean => only === undefined || only === part;

  const torch = await runTorch(runs('kernels') ? KERNEL_WORKLOADS.map((w) => w.name) : []);
  if (!('unavailable' in torch)) out(`PyTorch ${torch.torch} (${torch.isa}), best thread setting per workload`);
  const kernels = runs('kernels') ? await benchKernels(run, bestOf(torch)) : [];
  const training = runs('training') ? await benchTraining(run) : [];
  const { pipelines, projections } = runs('pipeline') ? await benchPipelines(run) : { pipelines: [], projections: [] };
  let processes: ProcessesBenchResult | null = null;
  if (runs('processes')) {
    processes = await processesBench(PROCESSES_WORKLOAD, timing === QUICK ? { batch: 128, batches: 8, repetitions: 3 } : { batch: 128, batches: 30, repetitions: 3 });
    out('');
    processesRows(processes).forEach(out);
  }
  let transport: TransportBenchResult | null = null;
  if (runs('transport')) {
    const counts = timing === QUICK ? { messages: 100, roundTrips: 20, repetitions: 3 } : { messages: 300, roundTrips: 50, repetitions: 5 };
    transport = await transportBench({ batch: 128, width: 1024, ...counts });
    out('');
    transportRows(transport).forEach(out);
  }
  bar.clear();
  if (json) process.stdout.write(JSON.stringify({ machine, threads, kernels, training, torch, pipelines, projections, processes, transport }) + '\n');
  return 0;
}

/** Matmul and convolution GFLOP/s: ours, oneDNN called directly (blocked and NHWC), and PyTorch's best. */
async function benchKernels({ backend, threads, timing, out }: BenchRun, torchBest: Map<string, BestFigure>): Promise<KernelResult[]> {
  const direct = loadDirectBench();
  const kernels: KernelResult[] = [];
  out('\nkernel                     threads   ours GFLOP/s   oneDNN direct   ours/direct   direct NHWC   ours/NHWC   PyTorch best   ours/PyTorch');
  for (const w of KERNEL_WORKLOADS) {
    for (const t of threads) {
      const r = runKernel(w, backend, direct, t, timing);
      kernels.push(r);
      const pt = torchBest.get(w.name);
      const nhwc = r.directNhwcGflops;
      out(`${w.name.padEnd(27)}${String(t).padStart(7)}${fmt(r.gflops).padStart(15)}${fmt(r.directGflops).padStart(16)}${fmt(r.gflops / r.directGflops, 2).padStart(14)}${fmt(nhwc).padStart(14)}${fmt(nhwc === undefined ? undefined : r.gflops / nhwc, 2).padStart(12)}${fmt(pt?.value).padStart(15)}${fmt(pt ? r.gflops / pt.value : undefined, 2).padStart(15)}`);
    }
  }
  return kernels;
}

type RoundFigure = TrainingFigure['rounds'][number] & { params: number; torchParams: number | undefined };

/** BP and sequential AL training samples/s, PyTorch and ours in turn for each round; medians of the rounds. */
async function benchTraining({ backend, threads, timing, rounds, progress: bar, out, runTorch }: BenchRun): Promise<TrainingFigure[]> {
  // perRound[r][i]: round r's figures for row i (workload x threads)
  const rows = TRAINING_WORKLOADS.flatMap((w) => threads.map((t) => ({ w, t })));
  const perRound: RoundFigure[][] = [];
  const progress = stepProgress(bar, 'training', rounds * (1 + rows.length));
  for (let r = 0; r < rounds; r++) {
    const pt = await runTorch(TRAINING_WORKLOADS.map((w) => w.name));
    progress.step(`round ${r + 1}: PyTorch`);
    if (r === 0) out('unavailable' in pt ? `PyTorch: ${pt.unavailable}` : `PyTorch ${pt.torch} (${pt.isa}), best thread setting per workload`);
    const best = bestOf(pt);
    perRound.push(rows.map(({ w, t }) => {
      backend.setNumThreads(t);
      const ours = trainingSamplesPerSec(w, 128, timing);
      progress.step(`round ${r + 1}: ${w.name}, ${t} thread${t === 1 ? '' : 's'}`);
      const b = best.get(w.name);
      return { ours: ours.samplesPerSec, torch: b?.value, torchThreads: b?.threads, params: ours.params, torchParams: b?.params };
    }));
  }
  out(`\ntraining (batch 128, ${rounds} round${rounds === 1 ? '' : 's'}: medians)   threads   ours samples/s   PyTorch best (threads)   ours/PyTorch best   rounds' ratios   params (ours / PyTorch)`);
  return rows.map(({ w, t }, i) => {
    const figures = perRound.map((round) => round[i]!);
    const ratios = figures.flatMap((f) => (f.torch === undefined ? [] : [f.ours / f.torch]));
    const torchValues = figures.flatMap((f) => (f.torch === undefined ? [] : [f.torch]));
    const ours = median(figures.map((f) => f.ours));
    const pt = torchValues.length > 0 ? median(torchValues) : undefined;
    const ratio = ratios.length > 0 ? median(ratios) : undefined;
    // PyTorch's best thread count of every round (one figure when the rounds agree)
    const torchThreads = [...new Set(figures.flatMap((f) => (f.torchThreads === undefined ? [] : [f.torchThreads])))].join('/');
    const first = figures[0]!;
    const params = `${first.params.toLocaleString('en-US')} / ${first.torchParams?.toLocaleString('en-US') ?? '-'}`;
    out(`${w.name.padEnd(47)}${String(t).padStart(7)}${fmt(ours).padStart(17)}${(pt !== undefined ? `${fmt(pt)} (${torchThreads})` : '-').padStart(25)}${fmt(ratio, 2).padStart(20)}${(ratios.length > 1 ? ratios.map((x) => fmt(x, 2)).join(' ') : '').padStart(17)}   ${params}`);
    return { workload: w.name, threads: t, samplesPerSec: ours, params: first.params, torchSamplesPerSec: pt, ratio, rounds: figures };
  });
}

/** Sequential, pipelined AL and GPipe measured on this machine's cores, then BP, GPipe and AL projected to 1-16 devices. */
async function benchPipelines({ timing, rounds, batch, progress: bar, out }: BenchRun): Promise<{ pipelines: PipelineBenchResult[]; projections: { workload: string; rows: ProjectionRow[] }[] }> {
  const pipelines: PipelineBenchResult[] = [];
  const cores = availableParallelism();
  const batches = timing === QUICK ? 12 : 40;
  const progress = stepProgress(bar, 'pipelines', PIPELINE_WORKLOADS.length * rounds * 4);
  for (const w of PIPELINE_WORKLOADS) {
    const r = await pipelineBench(w, { batch, batches, cores, microBatches: 4, rounds, onRun: (run, round) => progress.step(`${w.name} round ${round + 1}: ${run.method}, ${run.workers} x ${run.threads}`) });
    pipelines.push(r);
    const base = r.runs[0]!.samplesPerSec, pipe = r.runs[2]!.samplesPerSec;
    const many = r.rounds > 1;
    out(`\npipeline ${w.name} (${w.cut ? `units per AL layer ${w.cut.join(',')}, ` : ''}batch ${r.batch}, ${r.batches} batches, ${r.rounds} round${many ? 's: medians' : ''}, stages by AL layer: ${r.stages.map((g) => g.map((l) => l + 1).join('+')).join(' | ')})`);
    out(`method                     workers x threads   samples/s   vs AL 1 thread   stages busy${many ? "   rounds' samples/s" : ''}`);
    for (const run of r.runs) {
      const busy = run.utilisation?.map((u) => `${Math.round(100 * u)}%`).join('/') ?? '';
      out(`${run.method.padEnd(27)}${`${run.workers} x ${run.threads}`.padStart(17)}${fmt(run.samplesPerSec).padStart(12)}${fmt(run.samplesPerSec / base, 2).padStart(17)}   ${busy.padEnd(11)}${many ? `   ${run.rounds.map((x) => fmt(x)).join(' ')}` : ''}`);
    }
    const { vsOneThread, vsAllThreads, vsGpipe, evenSplitVsAllThreads } = r.ratios;
    const each = (x: { rounds: number[] }): string => (many ? ` (${x.rounds.map((v) => fmt(v, 2)).join(', ')})` : '');
    out(`pipelined AL: ${fmt(vsOneThread.median, 2)}x AL on 1 thread${each(vsOneThread)} (efficiency ${fmt((100 * vsOneThread.median) / cores, 0)}%), ${fmt(vsAllThreads.median, 2)}x AL on ${cores} threads${each(vsAllThreads)} (${r.stages.length} stages splitting AL's 1-thread work evenly: ${fmt(evenSplitVsAllThreads.median, 2)}x${each(evenSplitVsAllThreads)}), ${fmt(vsGpipe.median, 2)}x GPipe${each(vsGpipe)}; projected ${fmt(r.projectedAl)} samples/s (measured/projected ${fmt(pipe / r.projectedAl, 2)})`);
  }
  const projections: { workload: string; rows: ProjectionRow[] }[] = [];
  for (const w of PROJECTION_WORKLOADS) {
    const rows = projectionBench(w, { batch, devices: [1, 2, 4, 8, 16], microBatches: 4 });
    projections.push({ workload: w.name, rows });
    out(`\nprojection ${w.name} (${w.alLayers} AL layers, ${w.inputShape.join('x')}, batch ${batch}, per-layer costs measured on 1 thread)`);
    out('devices     BP samples/s   GPipe (M=4)   pipelined AL   AL/GPipe');
    for (const row of rows) out(`${String(row.devices).padStart(7)}${fmt(row.bp).padStart(15)}${fmt(row.gpipe).padStart(14)}${fmt(row.al).padStart(15)}${fmt(row.al !== undefined && row.gpipe !== undefined ? row.al / row.gpipe : undefined, 2).padStart(11)}`);
  }
  return { pipelines, projections };
}
