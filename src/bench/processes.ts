// Pipelined AL on worker threads against the same pipeline on stage processes over ZeroMQ
// (127.0.0.1), measured in one run: the price of leaving the process. Repetitions alternate the
// two (threads first, then processes first, and so on), so the machine's noise and drift hit both
// alike; every figure is the median over repetitions (the upper one of an even count: use an odd
// count), and the ratio is the median of the ratios of the pairs run side by side.
//
// Beside samples/s, the transport's share of each stage's time is measured directly: every stage
// process times what its own thread spends in the transport (zmq_transport.ts WireClock: encoding
// and decoding every message, the receiving copy of s and t, and handing frames to ZeroMQ), and
// sends it with each batch's report. Divided by the stage's step time (its compute on the batch)
// over the same batches, that is the per-batch transport overhead. It leaves out the work of
// ZeroMQ's I/O thread (the kernel's copies through loopback TCP), which runs beside the stage's
// thread; what that costs where cores are short shows in the samples/s ratio, which includes
// everything. Rates and sums are steady-state: from the end of the first quarter of the batches.
import type { Dataset } from '../data/dataset.js';
import { randomSplit } from '../data/synthetic.js';
import { buildAssociatedNet } from '../al/decompositions.js';
import { ALPipeline } from '../pipeline/al/al_pipeline.js';
import { startLocalStages } from '../pipeline/runtime/local_stages.js';
import type { ALNetBlueprint } from '../pipeline/runtime/messages.js';
import type { StageProcesses } from '../pipeline/runtime/stage_group.js';
import { runPipelinedEpochs } from '../pipeline/runtime/run_pipelined.js';
import { Rng } from '../tensor/rng.js';
import { median } from './timing.js';

export interface ProcessesWorkload {
  name: string;
  blueprint: ALNetBlueprint;
  /** AL layers of each stage */
  stages: number[][];
}

/** The MLP cut into 4 AL layers (t width 1024: s and t of a batch of 128 are 512 KB each), 2 stages. */
export const PROCESSES_WORKLOAD: ProcessesWorkload = {
  name: 'pipe-mlp-4-2',
  blueprint: { model: 'mlp', inputShape: [28, 28, 1], classes: 10, layers: 4, lr: 1e-3 },
  stages: [[0, 1], [2, 3]],
};

export interface PlacementFigures {
  /** samples/s of each repetition, in order */
  runs: number[];
  samplesPerSec: number;
  /** per stage: median ms of compute per batch */
  stepMs: number[];
  /** per stage: median ms in the transport per batch (0 on worker threads) */
  wireMs: number[];
  /** per stage: median of transport / step over repetitions */
  overhead: number[];
}

export interface ProcessesBenchResult {
  workload: string;
  batch: number;
  batches: number;
  repetitions: number;
  stages: number[][];
  threads: PlacementFigures;
  processes: PlacementFigures;
  /** median over repetitions of processes samples/s / threads samples/s, each pair run side by side */
  ratio: number;
}

interface RunFigures {
  samplesPerSec: number;
  stepMs: number[];
  wireMs: number[];
}

/** One epoch of pipelined AL; steady-state samples/s and per-batch sums of each stage. */
async function runOnce(w: ProcessesWorkload, data: Dataset, batch: number, processes: StageProcesses | undefined): Promise<RunFigures> {
  const rng = new Rng(1);
  const net = buildAssociatedNet({ ...w.blueprint, rng });
  const engine = await ALPipeline.start({ blueprint: w.blueprint, net, stages: w.stages, threads: 1, ...(processes ? { processes } : {}) });
  // busy and wire time are booked as each stage's report arrives: taken at two batch ends, both
  // cover the same stage reports, so their ratio is exact and per-batch figures are close
  const marks: { samples: number; seconds: number; busy: number[]; wire: number[] }[] = [];
  try {
    await runPipelinedEpochs(engine, data, {
      epochs: 1, batchSize: batch, rng, testAccuracy: () => 0, lr: () => 0,
      onBatch: (p) => marks.push({ samples: p.samples, seconds: p.seconds, busy: [...engine.busy], wire: [...engine.wireMs] }),
    });
  } finally {
    await engine.close();
  }
  const first = Math.floor(marks.length / 4);
  const from = marks[first]!, to = marks[marks.length - 1]!;
  const count = marks.length - 1 - first;
  return {
    samplesPerSec: (to.samples - from.samples) / (to.seconds - from.seconds),
    stepMs: to.busy.map((b, k) => (b - from.busy[k]!) / count),
    wireMs: to.wire.map((b, k) => (b - from.wire[k]!) / count),
  };
}

function summarise(runs: RunFigures[]): PlacementFigures {
  const perStage = (f: (r: RunFigures, k: number) => number): number[] => runs[0]!.stepMs.map((_, k) => median(runs.map((r) => f(r, k))));
  return {
    runs: runs.map((r) => r.samplesPerSec),
    samplesPerSec: median(runs.map((r) => r.samplesPerSec)),
    stepMs: perStage((r, k) => r.stepMs[k]!),
    wireMs: perStage((r, k) => r.wireMs[k]!),
    overhead: perStage((r, k) => r.wireMs[k]! / r.stepMs[k]!),
  };
}

/**
 * `repetitions` pairs of runs of `batches` batches each. Each processes run starts fresh stage
 * processes (`al stage --once`), whose start-up is not timed.
 */
export async function processesBench(w: ProcessesWorkload, options: { batch: number; batches: number; repetitions: number }): Promise<ProcessesBenchResult> {
  const { batch, batches, repetitions } = options;
  if (batches < 5) throw new RangeError(`processesBench: expected at least 5 batches, got ${batches}`);
  const shape = [...w.blueprint.inputShape] as [number, number, number], classes = w.blueprint.classes;
  const data: Dataset = { train: randomSplit(batch * batches, shape, classes, 1), test: randomSplit(16, shape, classes, 2) };
  const threads: RunFigures[] = [], processes: RunFigures[] = [];
  const onThreads = async (): Promise<void> => {
    threads.push(await runOnce(w, data, batch, undefined));
  };
  const onProcesses = async (): Promise<void> => {
    const local = await startLocalStages(w.stages.length);
    try {
      // a generous connect timeout: on a loaded machine a fresh stage process can be slow to answer
      processes.push(await runOnce(w, data, batch, { ...local.processes, connectTimeoutMs: 30_000 }));
    } finally {
      await local.stop();
    }
  };
  for (let r = 0; r < repetitions; r++) {
    const order = r % 2 === 0 ? [onThreads, onProcesses] : [onProcesses, onThreads];
    for (const run of order) await run();
  }
  return {
    workload: w.name, batch, batches, repetitions, stages: w.stages,
    threads: summarise(threads), processes: summarise(processes),
    ratio: median(processes.map((p, r) => p.samplesPerSec / threads[r]!.samplesPerSec)),
  };
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
const perStage = (xs: number[], digits: number): string => xs.map((x) => x.toFixed(digits)).join('/');

/** The lines `al bench` prints for a result. */
export function processesRows(r: ProcessesBenchResult): string[] {
  const groups = r.stages.map((g) => g.map((l) => l + 1).join('+')).join(' | ');
  const row = (name: string, f: PlacementFigures, wire: boolean): string =>
    `${name.padEnd(21)}${f.samplesPerSec.toFixed(1).padStart(10)}   ${f.runs.map((x) => x.toFixed(1)).join(' ').padEnd(22)}${perStage(f.stepMs, 1).padStart(15)}${(wire ? perStage(f.wireMs, 2) : '-').padStart(19)}${(wire ? f.overhead.map(percent).join('/') : '-').padStart(17)}`;
  return [
    `threads vs processes ${r.workload} (AL layers by stage: ${groups}, 1 compute thread per stage, batch ${r.batch}, ${r.batches} batches, ${r.repetitions} repetitions alternating)`,
    'stages on            samples/s   each run                step ms/batch   transport ms/batch   transport/step',
    row('worker threads', r.threads, false),
    row('processes (ZeroMQ)', r.processes, true),
    `processes/threads ${r.ratio.toFixed(2)}x (median of the pairs); transport per batch at most ${percent(Math.max(...r.processes.overhead))} of a stage's step time`,
  ];
}
