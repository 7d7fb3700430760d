// A training run as a library call: train(config) does what `al train` does (the CLI is flags and
// printing over it): loads the data, builds the model, opens (or resumes) the run directory,
// trains with --method bp, al (sequential or pipelined, on worker threads or stage processes),
// gpipe or naive-pipeline through the one epoch loop (train/loop.ts), and writes config.json,
// metrics.jsonl, steps.jsonl, trace.json and a checkpoint after every epoch.
import { availableParallelism } from 'node:os';
import { defaultTWidth } from '../al/decompositions.js';
import { backend } from '../backend/backend.js';
import type { Dataset } from '../data/dataset.js';
import { paperSchedule, scheduledLr } from '../optim/schedule.js';
import { ALPipeline } from '../pipeline/al/al_pipeline.js';
import { BpPipeline } from '../pipeline/bp/bp_pipeline.js';
import type { BpPipelineMethod } from '../pipeline/bp/bp_stage.js';
import { linearStages, measureModulePhases, planStages } from '../pipeline/plan/balance.js';
import { alLayerMacs } from '../pipeline/plan/layer_macs.js';
import { startLocalStages, type LocalStages } from '../pipeline/runtime/local_stages.js';
import { pipelineDriver, type PipelinedEpochMetrics } from '../pipeline/runtime/run_pipelined.js';
import type { StageProcesses } from '../pipeline/runtime/stage_group.js';
import { Rng } from '../tensor/rng.js';
import { learnerDriver, runStepLoop, type BatchProgress, type EpochMetrics, type LoopOptions, type StepDriver } from '../train/loop.js';
import { EvalSchedule, type EvalSummary } from '../train/eval_schedule.js';
import { trainMacsPerSample } from '../train/macs.js';
import { writeError, writeFileAtomic, type RunDir } from '../train/run_dir.js';
import { STEPS_FILE, StepLog } from '../train/step_log.js';
import { machineInfo } from './machine.js';
import { openRun, runIdentity, saveTrainingCheckpoint } from './resume.js';
import { checkBpStages, checkTabular, loadData, type TrainConfig } from './train_config.js';
import { buildTrainable, type Trainable } from './trainable.js';

/** An epoch's metrics; pipelined runs add each stage's utilisation (and naive-pipeline the staleness). */
export type RunEpochMetrics = EpochMetrics & Partial<Pick<PipelinedEpochMetrics, 'utilisation' | 'staleness'>>;

export interface TrainHooks {
  /** after every batch: the epoch's running means and the batch's own result */
  onStep?: (progress: BatchProgress) => void;
  /** after every finished epoch, once its metrics line and checkpoint are written */
  onEpoch?: (metrics: RunEpochMetrics) => void;
  /** aborted: the run stops after the current batch; only finished epochs are saved */
  signal?: AbortSignal;
  /** the run's log lines: what it trains, where, and how the pipeline's stages are placed */
  log?: (line: string) => void;
  /** once the run directory is open and locked, before anything is written to it */
  onOpen?: (run: { path: string; startEpoch: number }) => void;
}

export interface TrainResult {
  /** the metrics of the epochs trained by this call (a resumed run's earlier ones are in metrics.jsonl) */
  history: RunEpochMetrics[];
  runDir: string;
  /** 0-based epoch the call started from (a resumed run's finished epochs) */
  startEpoch: number;
  /** the signal stopped the run before its last epoch */
  stopped: boolean;
  seconds: number;
  /** multiply-adds of one training sample (matrix products and convolutions, forward and backward) */
  trainMacsPerSample: number;
  /** with evalEvery, untilAccuracy or maxSeconds: the evaluations between steps and the stop they made */
  evals?: EvalSummary;
  /** how a run stopped by untilAccuracy or maxSeconds ended, in words */
  stopLine?: string;
}

/**
 * Trains a run described by `config` (trainConfig() fills in the defaults) and writes its run
 * directory; with config.resume, continues the run in that directory from its last finished
 * epoch, bit-identical to a run never stopped. Compute runs on the current backend
 * (setBackend; by default the native one), with config.threads threads.
 *
 * @example
 *   const { history } = await train(trainConfig({ method: 'al', epochs: 2, limit: 2000, out: 'runs/al' }));
 */
export async function train(settings: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  let config = settings;
  const log = hooks.log ?? ((): void => {});
  const compute = backend();
  if (compute.getNumThreads() !== config.threads) compute.setNumThreads(config.threads);
  const data = loadData(config);
  checkTabular(config, data);
  // a preset's config.json holds every setting resolved, the t width included
  if (config.preset !== undefined && config.method === 'al' && config.tWidth === undefined) {
    config = { ...config, tWidth: defaultTWidth(config.model, data.train.shape, data.train.classes) };
  }
  const rng = new Rng(config.seed);
  const model = buildTrainable(config, data.train.shape, data.train.classes, rng);
  checkBpStages(config, model);
  const counted = countTrainMacs(config, model, data);
  const macs = counted.total;
  const { run, startEpoch, lock } = openRun(config, model, { data: rng });
  try {
    hooks.onOpen?.({ path: run.path, startEpoch });
    run.writeConfig({ ...config, resume: undefined, stages: undefined, stageToken: undefined, stageKeys: undefined, insecure: undefined, parameters: model.parameters, trainMacsPerSample: macs, machine: machineInfo(compute) });
    log(`${config.model} on ${config.dataset} (${data.train.n} training samples), method ${config.method}: ${model.summary.join('; ')}; ${compute.getNumThreads()} threads, ${compute.cpuIsa()}`);
    log(`training arithmetic: ${formatMacs(macs)} multiply-adds a sample (matrix products and convolutions, forward and backward)`);
    log(`run directory: ${run.path}${startEpoch > 0 ? ` (resumed after epoch ${startEpoch})` : config.resume !== undefined ? ' (no epoch had finished: starting again from epoch 1)' : ''}`);
    if (config.preset) log(`preset ${config.preset}: lr ${config.lr}, batch ${config.batch}, ${config.epochs} epochs, ${config.schedule} schedule, weight decay ${config.weightDecay} on ${config.decayOn ?? 'all'}${config.method === 'al' ? ' (of f)' : ''}, ${config.shuffle === false ? 'no shuffling' : 'shuffled'}${config.normalize ? `, ${config.normalize} data` : ''}, the authors' network`);
    if (data.augment) log(`augmentation: ${data.augment.description}`);
    const begin = performance.now();
    const evals = openEvalSchedule(config, run, startEpoch, data, (split) => model.testAccuracy(split));
    const history = await trainEpochs(config, model, data, { run, startEpoch, rng, log, hooks, evals, layerMacs: counted.perLayer });
    // a stop after the last batch stopped nothing: the run is complete
    const stopped = (hooks.signal?.aborted ?? false) && startEpoch + history.length < config.epochs;
    const stopLine = evals?.stopLine();
    return {
      history, runDir: run.path, startEpoch, stopped, seconds: (performance.now() - begin) / 1000, trainMacsPerSample: macs,
      ...(evals ? { evals: evals.summary() } : {}), ...(stopLine ? { stopLine } : {}),
    };
  } catch (error) {
    // a full disk or a folder made read-only mid-run: named, in words, as a bad --out is
    throw writeError(error, run.path);
  } finally {
    lock.release();
  }
}

/**
 * trainMacsPerSample of the run's network (a step changes weights, so it is never counted on the
 * run's own). An AL net is counted layer by layer (alLayerMacs), which also gives the pipeline its
 * stage costs; a BP network on a throwaway copy.
 */
function countTrainMacs(config: TrainConfig, model: Trainable, data: Dataset): { total: number; perLayer?: number[] } {
  if (model.al) {
    const perLayer = alLayerMacs(model.al.blueprint, Math.max(2, config.batch));
    return { total: perLayer.reduce((a, b) => a + b, 0), perLayer };
  }
  const copy = buildTrainable(config, data.train.shape, data.train.classes, new Rng(0));
  copy.learner.setEpoch(0, 1);
  return { total: trainMacsPerSample(copy.learner, data.train.shape, data.train.classes) };
}

const formatMacs = (macs: number): string => (macs >= 1e9 ? `${(macs / 1e9).toFixed(2)} G` : `${(macs / 1e6).toFixed(1)} M`);

interface OpenRun {
  run: RunDir;
  startEpoch: number;
  rng: Rng;
  log: (line: string) => void;
  hooks: TrainHooks;
  evals: EvalSchedule | undefined;
  /** multiply-adds of each AL layer's step: the pipeline's stage costs */
  layerMacs: number[] | undefined;
}

/** The run's evaluations between steps, or undefined when none of their settings was given. */
function openEvalSchedule(config: TrainConfig, run: RunDir, startEpoch: number, data: Dataset, evaluate: (split: Dataset['test']) => number): EvalSchedule | undefined {
  const { evalEvery, untilAccuracy, maxSeconds } = config;
  if (evalEvery === undefined && untilAccuracy === undefined && maxSeconds === undefined) return undefined;
  return EvalSchedule.open(run, startEpoch, {
    every: evalEvery, untilAccuracy: untilAccuracy === undefined ? undefined : untilAccuracy / 100, maxSeconds, test: data.test, evaluate,
  });
}

/** The epochs of a run whose directory is open: steps.jsonl, metrics.jsonl and a checkpoint after every epoch. */
async function trainEpochs(config: TrainConfig, model: Trainable, data: Dataset, at: OpenRun): Promise<RunEpochMetrics[]> {
  const { run, startEpoch, rng, hooks, evals } = at;
  const milestones = config.schedule === 'paper' ? paperSchedule : [];
  const steps = config.logEvery === undefined ? undefined : new StepLog(run.file(STEPS_FILE), {
    every: config.logEvery, samplesPerEpoch: data.train.n, lrAt: (epoch) => scheduledLr(config.lr, epoch, config.epochs, milestones),
  });
  const loop: LoopOptions = {
    ...evals?.loopOptions(),
    epochs: config.epochs,
    startEpoch,
    batchSize: config.batch,
    ...(config.shuffle === false ? { shuffle: false } : {}),
    rng,
    onBatch: (p) => {
      steps?.add(p);
      evals?.onBatch(p);
      hooks.onStep?.(p);
    },
    onEpoch: (m: RunEpochMetrics) => {
      // resident set size of the whole process (worker threads included): memory must stay flat
      const rssMB = Math.round(process.memoryUsage().rss / 2 ** 20);
      run.appendMetrics({ ...m, method: config.method, ...(config.pipeline ? { pipeline: true } : {}), rssMB });
      saveTrainingCheckpoint(run.path, model, { epoch: m.epoch, rngs: { data: rng }, config: runIdentity(config) });
      hooks.onEpoch?.(m);
    },
    shouldStop: () => (hooks.signal?.aborted ?? false) || evals?.done === true,
  };
  if (!config.pipeline) return runStepLoop(learnerDriver(model.learner), data, loop, 'train');
  return trainPipelined(config, model, data, { run, loop, log: at.log, layerMacs: at.layerMacs });
}

interface Placement {
  /** local stage processes started for this run (config.processes) */
  local?: LocalStages;
  processes?: StageProcesses;
  /** for the log: where the stages run */
  where: string;
}

/** Where the stages run: local stage processes started here (processes), listed ones (stages), or worker threads. */
async function placeStages(config: TrainConfig): Promise<Placement> {
  const local = config.processes !== undefined ? await startLocalStages(config.processes, { insecure: config.insecure === true }) : undefined;
  const processes = local ? local.processes : config.stages ? { addresses: config.stages, token: config.stageToken, curve: config.stageKeys } : undefined;
  const where = processes ? `in stage processes at ${processes.addresses.join(', ')}` : 'on worker threads';
  return { ...(local ? { local } : {}), ...(processes ? { processes } : {}), where };
}

/** Starts an engine on placed stages; local stage processes end with it if it does not start. */
async function startOn<E>(placement: Placement, start: (processes: { processes?: StageProcesses }) => Promise<E>): Promise<E> {
  try {
    return await start(placement.processes ? { processes: placement.processes } : {});
  } catch (error) {
    await placement.local?.stop();
    throw error;
  }
}

interface StartedPipeline {
  engine: ALPipeline | BpPipeline;
  stages: number[][];
  lr: () => number;
  local?: LocalStages;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Plans the stages and starts the workers (or stage processes) of pipelined AL. */
async function startALPipeline(config: TrainConfig, al: NonNullable<Trainable['al']>, layerMacs: number[], log: (line: string) => void): Promise<StartedPipeline> {
  const { net, blueprint } = al;
  // stages balanced by the layers' multiply-adds: counted, not timed, so planning needs no copy of
  // the net and no steps of it (the costs of dense and convolutional layers follow their counts
  // closely enough to cut the same stages)
  const stages = planStages(net.depth, config.workers ?? net.depth, () => layerMacs);
  backend().setNumThreads(availableParallelism());
  const placement = await placeStages(config);
  // the slowest stage sets the pace: each stage's share of the step's arithmetic says how even they are
  const total = layerMacs.reduce((a, b) => a + b, 0);
  const shares = stages.map((g) => `${Math.round((100 * g.reduce((a, l) => a + layerMacs[l]!, 0)) / total)} %`).join(' | ');
  log(`pipeline: ${stages.length} stages ${placement.where} (AL layers ${stages.map((g) => g.map((l) => l + 1).join('+')).join(' | ')}; ${shares} of the multiply-adds), ${plural(config.threads, 'thread')} each`);
  const engine = await startOn(placement, (where) => ALPipeline.start({ blueprint, net, stages, threads: config.threads, trace: config.trace, ...where }));
  return { engine, stages, lr: () => net.layers[0]!.forwardOptimizer.lr, ...(placement.local ? { local: placement.local } : {}) };
}

/** Plans the stages and starts the workers (or stage processes) of a pipelined BP method (GPipe or naive). */
async function startBpPipeline(config: TrainConfig, bp: NonNullable<Trainable['bp']>, data: Dataset, log: (line: string) => void): Promise<StartedPipeline> {
  const { model: network, optimizer, settings, milestones } = bp;
  const shape = data.train.shape;
  const phases = measureModulePhases(config.model, shape, data.train.classes, config.batch, settings, { hidden: config.hidden });
  const stages = linearStages(phases.map((p) => p.forward + p.backward + p.update), config.workers ?? 1);
  backend().setNumThreads(availableParallelism());
  const placement = await placeStages(config);
  log(`pipeline: ${stages.length} stages ${placement.where} (modules ${stages.map((g) => `${g[0]}-${g[g.length - 1]}`).join(' | ')}), ${plural(config.threads, 'thread')} each${config.method === 'gpipe' ? `, ${config.microBatches} micro-batch${config.microBatches === 1 ? '' : 'es'} per mini-batch` : ''}`);
  const engine = await startOn(placement, (where) => BpPipeline.start({
    method: config.method as BpPipelineMethod, model: config.model, inputShape: shape, classes: data.train.classes, hidden: config.hidden,
    network, optimizer, settings, milestones, stages, microBatches: config.microBatches ?? 1, threads: config.threads, trace: config.trace, ...where,
  }));
  return { engine, stages, lr: () => optimizer.lr, ...(placement.local ? { local: placement.local } : {}) };
}

/** A pipelined method: start the workers, run the epochs, stop the workers, write the trace. */
async function trainPipelined(config: TrainConfig, model: Trainable, data: Dataset, at: { run: RunDir; loop: LoopOptions; log: (line: string) => void; layerMacs: number[] | undefined }): Promise<RunEpochMetrics[]> {
  // an AL net's multiply-adds were counted layer by layer (countTrainMacs), so layerMacs is set
  const { engine, stages, lr, local } = model.al ? await startALPipeline(config, model.al, at.layerMacs!, at.log) : await startBpPipeline(config, model.bp!, data, at.log);
  try {
    const driver: StepDriver = pipelineDriver(engine, {
      testAccuracy: (split) => model.testAccuracy(split),
      lr,
      reportStaleness: config.method === 'naive-pipeline',
    });
    return await runStepLoop(driver, data, at.loop, 'train');
  } finally {
    await engine.close();
    await local?.stop();
    if (config.trace) {
      writeFileAtomic(at.run.file('trace.json'), JSON.stringify({
        clock: 'ms since the coordinator started',
        method: config.method,
        stages: stages.map((items, stage) => (model.al ? { stage, layers: items.map((l) => l + 1) } : { stage, modules: items })),
        intervals: engine.intervals,
      }) + '\n');
    }
  }
}
