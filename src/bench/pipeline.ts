// Pipeline throughput, measured in one run so every figure has its baseline beside it: for a
// network cut into AL layers, sequential AL on 1 thread and on every core, pipelined AL on K worker
// threads (1 compute thread each), and GPipe on the same K workers (M micro-batches) on the BP
// backbone; plus the projection of the simulator fed with costs measured here, for more devices.
//
// Rates are steady-state: samples per second between the completion of the first quarter of the
// batches and the last batch, so start-up (primitive creation, pipeline fill) is left out of every
// method alike. Data are random (throughput does not depend on them).
import { ALLearner } from '../al/al_learner.js';
import { buildAssociatedNet } from '../al/decompositions.js';
import { backend } from '../backend/backend.js';
import type { Dataset } from '../data/dataset.js';
import { randomSplit } from '../data/synthetic.js';
import { buildModel, type ModelName } from '../models/index.js';
import { createOptimizer, type OptimizerSettings } from '../optim/factory.js';
import { ALPipeline } from '../pipeline/al/al_pipeline.js';
import { linearStages, measureLayerCosts, measureModulePhases } from '../pipeline/plan/balance.js';
import { BpPipeline } from '../pipeline/bp/bp_pipeline.js';
import type { ALNetBlueprint } from '../pipeline/runtime/messages.js';
import { projectAl, projectThroughput, type ProjectionRow } from '../pipeline/plan/projection.js';
import { runPipelinedEpochs } from '../pipeline/runtime/run_pipelined.js';
import type { PipelineEngine } from '../pipeline/runtime/stage_group.js';
import { Rng } from '../tensor/rng.js';
import { runEpochs, type BatchProgress } from '../train/loop.js';
import { median } from './timing.js';

export interface PipelineWorkload {
  name: string;
  model: ModelName;
  inputShape: [number, number, number];
  alLayers: number;
  /** units per AL layer (default: the authors' cut) */
  cut?: number[];
  /** width of every t_i (default: the authors') */
  tWidth?: number;
}

export const PIPELINE_WORKLOADS: PipelineWorkload[] = [
  { name: 'pipe-mlp-4', model: 'mlp', inputShape: [28, 28, 1], alLayers: 4 },
  { name: 'pipe-cnn-4', model: 'cnn', inputShape: [28, 28, 1], alLayers: 4 },
  // The authors' cut (2 conv units a layer) gives layer 1 a 25,088-wide bridge input and 42 % of
  // the cost: too much to share a stage, too little to fill one, so 2 stages cap near 1.73x.
  // Three units in layer 1 (the same fat bridge) and the stride-2 unit alone in layer 2 split the
  // cost 51 / 49 % (measured per layer on 1 thread).
  { name: 'pipe-cnn-4-cut-3122', model: 'cnn', inputShape: [28, 28, 1], alLayers: 4, cut: [3, 1, 2, 2] },
];

/** Workloads only projected (too slow to run all methods in a bench on this machine). */
export const PROJECTION_WORKLOADS: PipelineWorkload[] = [
  { name: 'project-cnn', model: 'cnn', inputShape: [28, 28, 1], alLayers: 8 },
  { name: 'project-resnet32', model: 'resnet32', inputShape: [32, 32, 3], alLayers: 16 },
];

export interface PipelineRun {
  method: string;
  workers: number;
  threads: number;
  samplesPerSec: number;
  /** per stage busy fraction (pipelined runs) */
  utilisation?: number[];
}

/** One method over the rounds: the median rate, each round's, and the median utilisation. */
export interface PipelineMethod extends PipelineRun {
  rounds: number[];
}

/** Pipelined AL against each baseline: the median of the rounds' ratios, and each round's. */
export interface PipelineRatios {
  vsOneThread: { median: number; rounds: number[] };
  vsAllThreads: { median: number; rounds: number[] };
  vsGpipe: { median: number; rounds: number[] };
  /**
   * What the stages would reach against AL on every core if they split AL's one-thread work evenly
   * and lost nothing to messages: `stages` times AL on 1 thread. Measured pipelines come within a
   * few percent of it and can pass it a little (likely because the coordinator's thread prepares
   * the batches beside the stages), so it tells whether this machine leaves a pipeline anything
   * to gain.
   */
  evenSplitVsAllThreads: { median: number; rounds: number[] };
}

export interface PipelineBenchResult {
  workload: string;
  batch: number;
  batches: number;
  rounds: number;
  stages: number[][];
  /** al on 1 thread, al on every core, pipelined al, gpipe */
  runs: PipelineMethod[];
  ratios: PipelineRatios;
  /** AL on the same number of devices as workers, from per-layer costs measured on 1 thread */
  projectedAl: number;
}

const settings: OptimizerSettings = { kind: 'adam', lr: 1e-3, weightDecay: 0 };

/** Steady-state samples/s from per-batch progress: from the end of the first quarter to the end. */
class SteadyRate {
  private readonly marks: { samples: number; seconds: number }[] = [];
  readonly onBatch = (p: BatchProgress): void => {
    this.marks.push({ samples: p.samples, seconds: p.seconds });
  };

  get samplesPerSec(): number {
    const from = this.marks[Math.floor(this.marks.length / 4)]!, to = this.marks[this.marks.length - 1]!;
    return (to.samples - from.samples) / (to.seconds - from.seconds);
  }
}

function blueprintOf(w: PipelineWorkload): ALNetBlueprint {
  return { model: w.model, inputShape: w.inputShape, classes: 10, layers: w.alLayers, ...(w.cut ? { cut: w.cut } : {}), ...(w.tWidth ? { tWidth: w.tWidth } : {}), lr: settings.lr };
}

async function sequentialAl(w: PipelineWorkload, data: Dataset, batch: number, threads: number): Promise<PipelineRun> {
  backend().setNumThreads(threads);
  const rng = new Rng(1);
  const net = buildAssociatedNet({ ...blueprintOf(w), rng });
  const rate = new SteadyRate();
  await runEpochs(new ALLearner(net), data, { epochs: 1, batchSize: batch, rng, onBatch: rate.onBatch });
  return { method: 'al', workers: 1, threads, samplesPerSec: rate.samplesPerSec };
}

async function pipelined(engine: PipelineEngine & { close(): Promise<void> }, data: Dataset, batch: number, rng: Rng): Promise<{ samplesPerSec: number; utilisation: number[] }> {
  const rate = new SteadyRate();
  try {
    const [m] = await runPipelinedEpochs(engine, data, { epochs: 1, batchSize: batch, rng, onBatch: rate.onBatch, testAccuracy: () => 0, lr: () => 0 });
    return { samplesPerSec: rate.samplesPerSec, utilisation: m!.utilisation };
  } finally {
    await engine.close();
  }
}

async function pipelinedAl(w: PipelineWorkload, data: Dataset, batch: number, stages: number[][]): Promise<PipelineRun> {
  const rng = new Rng(1);
  const blueprint = blueprintOf(w);
  const net = buildAssociatedNet({ ...blueprint, rng });
  const engine = await ALPipeline.start({ blueprint, net, stages, threads: 1 });
  return { method: 'al-pipeline', workers: stages.length, threads: 1, ...(await pipelined(engine, data, batch, rng)) };
}

async function gpipe(w: PipelineWorkload, data: Dataset, batch: number, workers: number, microBatches: number): Promise<PipelineRun> {
  backend().setNumThreads(1);
  const phases = measureModulePhases(w.model, w.inputShape, 10, batch, settings);
  const stages = linearStages(phases.map((p) => p.forward + p.backward + p.update), workers);
  const rng = new Rng(1);
  const network = buildModel(w.model, { inputShape: w.inputShape, classes: 10, rng });
  const optimizer = createOptimizer(network.parameters(), settings);
  const engine = await BpPipeline.start({
    method: 'gpipe', model: w.model, inputShape: w.inputShape, classes: 10, network, optimizer, settings, milestones: [],
    stages, microBatches, threads: 1,
  });
  return { method: `gpipe-m${microBatches}`, workers, threads: 1, ...(await pipelined(engine, data, batch, rng)) };
}

/**
 * Every method on one workload, `rounds` times in turn (a shared machine drifts over minutes, and
 * the two-worker runs need both cores at once, so they feel it most); `cores` is the machine's
 * core count (and the worker count). Ratios are taken within each round, then their median.
 */
export async function pipelineBench(
  w: PipelineWorkload,
  options: { batch: number; batches: number; cores: number; microBatches: number; rounds: number; onRun?: (run: PipelineRun, round: number) => void },
): Promise<PipelineBenchResult> {
  const { batch, batches, cores, microBatches, rounds, onRun } = options;
  const data: Dataset = { train: randomSplit(batch * batches, w.inputShape, 10, 1), test: randomSplit(16, w.inputShape, 10, 2) };
  backend().setNumThreads(1);
  const costs = measureLayerCosts(blueprintOf(w), batch);
  const stages = linearStages(costs, cores);
  const perRound: PipelineRun[][] = [];
  for (let r = 0; r < rounds; r++) {
    const round: PipelineRun[] = [];
    const methods = [
      () => sequentialAl(w, data, batch, 1),
      () => sequentialAl(w, data, batch, cores),
      () => pipelinedAl(w, data, batch, stages),
      () => gpipe(w, data, batch, cores, microBatches),
    ];
    for (const method of methods) {
      round.push(await method());
      onRun?.(round[round.length - 1]!, r);
    }
    perRound.push(round);
  }
  backend().setNumThreads(cores);
  const runs = perRound[0]!.map((first, i): PipelineMethod => {
    const figures = perRound.map((round) => round[i]!);
    const utilisation = first.utilisation?.map((_, k) => median(figures.map((f) => f.utilisation![k]!)));
    return { ...first, samplesPerSec: median(figures.map((f) => f.samplesPerSec)), rounds: figures.map((f) => f.samplesPerSec), ...(utilisation ? { utilisation } : {}) };
  });
  const ratio = (of: number, to: number, times = 1): { median: number; rounds: number[] } => {
    const values = perRound.map((round) => (times * round[of]!.samplesPerSec) / round[to]!.samplesPerSec);
    return { median: median(values), rounds: values };
  };
  return {
    workload: w.name, batch, batches, rounds, stages, runs,
    ratios: { vsOneThread: ratio(2, 0), vsAllThreads: ratio(2, 1), vsGpipe: ratio(2, 3), evenSplitVsAllThreads: ratio(0, 1, stages.length) },
    projectedAl: projectAl(costs, { devices: cores, batchSize: batch }).samplesPerSec,
  };
}

/** Projected samples/s of BP, GPipe and pipelined AL on 1..16 devices from costs measured on 1 thread. */
export function projectionBench(w: PipelineWorkload, options: { batch: number; devices: number[]; microBatches: number }): ProjectionRow[] {
  backend().setNumThreads(1);
  const alStepMs = measureLayerCosts(blueprintOf(w), options.batch);
  const bpLayers = measureModulePhases(w.model, w.inputShape, 10, options.batch, settings);
  return projectThroughput({ bpLayers, alStepMs, devices: options.devices, microBatches: options.microBatches, batchSize: options.batch });
}
