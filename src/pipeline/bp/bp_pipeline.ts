// The coordinator of the two pipelined BP baselines on worker threads or stage processes, on the
// same engine as pipelined AL: the backbone's top-level modules are cut into contiguous stages,
// each a worker (or process) with its own optimizer over its parameters.
//   gpipe: each mini-batch is split into M micro-batches; the next mini-batch enters only after
//          every stage has flushed (updated), so every update is exact BP — and the stages idle in
//          the fill and drain of every mini-batch (GPipe's bubbles).
//   naive: a new batch enters as soon as fewer than K are in flight (K stages), with no flush, so
//          stages stay busy but each backward meets weights that changed since its forward.
import type { Sequential } from '../../nn/container.js';
import type { Optimizer, OptimizerState } from '../../optim/optimizer.js';
import type { OptimizerSettings } from '../../optim/factory.js';
import type { Milestone } from '../../optim/schedule.js';
import type { ModelName } from '../../models/index.js';
import { BP_REPORTS, type BpDone, type BpStageInit, type BpStageState, type ForwardMessage } from './bp_messages.js';
import type { BpPipelineMethod } from './bp_stage.js';
import { transferables } from '../runtime/messages.js';
import { StageGroup, checkStages, type BatchDone, type PipelineEngine, type StageProcesses } from '../runtime/stage_group.js';
import { loadNamedTensors, moduleTensors } from '../runtime/state.js';

export interface BpPipelineOptions {
  method: BpPipelineMethod;
  model: ModelName;
  inputShape: [number, number, number];
  classes: number;
  /** MLP: the hidden widths `network` was built with (undefined: the paper's) */
  hidden?: number[] | undefined;
  /** the coordinator's copy of the network and its optimizer: initial state and collected state */
  network: Sequential;
  optimizer: Optimizer;
  settings: OptimizerSettings;
  milestones: readonly Milestone[];
  /** top-level module indices of each stage, contiguous, in order, covering the network */
  stages: number[][];
  /** gpipe: micro-batches per mini-batch */
  microBatches: number;
  threads: number;
  trace?: boolean;
  /** stage processes (`al stage --listen`), one HOST:PORT per stage; without it, worker threads */
  processes?: StageProcesses;
}

const workerUrl = new URL('./bp_worker.js', import.meta.url);

/** Splits a whole-network optimizer state into per-stage slices (parameters in order). */
function sliceState(state: OptimizerState, counts: number[]): OptimizerState[] {
  let start = 0;
  return counts.map((n) => {
    const buffers = Object.fromEntries(Object.entries(state.buffers).map(([k, list]) => [k, list.slice(start, start + n)]));
    start += n;
    return { step: state.step, lr: state.lr, buffers };
  });
}

function joinStates(states: OptimizerState[]): OptimizerState {
  const buffers: Record<string, Float32Array[]> = {};
  for (const s of states) for (const [k, list] of Object.entries(s.buffers)) (buffers[k] ??= []).push(...list);
  return { step: states[0]!.step, lr: states[0]!.lr, buffers };
}

export class BpPipeline extends StageGroup<BpDone> implements PipelineEngine {
  private readonly pending = new Map<number, { count: number; loss: number; correct: number; staleness: number }>();
  private fed = 0;
  private completed = 0;
  onBatchDone: ((done: BatchDone) => void) | null = null;

  private constructor(private readonly options: BpPipelineOptions) {
    checkStages(options.stages, options.network.layers.length, 'modules');
    super(options.stages.length, (k) => `modules ${options.stages[k]!.join(', ')}`, options.trace ?? false, BP_REPORTS);
  }

  static async start(options: BpPipelineOptions): Promise<BpPipeline> {
    const pipeline = new BpPipeline(options);
    const { network, stages } = options;
    const counts = stages.map((g) => g.reduce((n, i) => n + network.layers[i]!.parameters().length, 0));
    const slices = sliceState(options.optimizer.state(), counts);
    const init = (k: number): { message: BpStageInit } => ({ message: {
      stage: k, stages: stages.length, method: options.method, model: options.model, inputShape: options.inputShape,
      classes: options.classes, hidden: options.hidden, modules: stages[k]!,
      tensors: moduleTensors(stages[k]!.map((i) => network.layers[i]!), stages[k]!, true),
      optimizer: options.settings, milestones: options.milestones, optimizerState: slices[k]!,
      threads: options.threads, timeOrigin: performance.timeOrigin,
    } });
    // the coordinator's flow control (a flush per mini-batch, or K batches in flight) bounds every queue
    if (options.processes) await pipeline.attach('bp', options.processes, 1, init);
    else await pipeline.spawn('bp', workerUrl, 1, init);
    return pipeline;
  }

  get batchesDone(): number {
    return this.completed;
  }

  protected onStageMessage(_k: number, m: BpDone): void {
    for (const interval of m.intervals) this.record(interval);
    let entry = this.pending.get(m.index);
    if (!entry) this.pending.set(m.index, (entry = { count: 0, loss: 0, correct: 0, staleness: 0 }));
    entry.count++;
    entry.staleness += m.staleness;
    if (m.loss !== undefined) {
      entry.loss = m.loss;
      entry.correct = m.correct!;
    }
    for (;;) {
      const next = this.pending.get(this.completed);
      if (!next || next.count < this.stageCount) break;
      this.pending.delete(this.completed);
      this.onBatchDone?.({ index: this.completed, loss: next.loss, correct: next.correct, staleness: next.staleness });
      this.completed++;
    }
  }

  /** Sends a mini-batch into stage 0 (gpipe: as M micro-batches, after the previous flush). */
  async feed(x: Float32Array, shape: number[], labels: Int32Array, epoch: number, epochs: number): Promise<void> {
    const gpipe = this.options.method === 'gpipe';
    await this.until(() => (gpipe ? this.completed === this.fed : this.fed - this.completed < this.stageCount));
    const rows = shape[0]!;
    const micros = gpipe ? Math.min(this.options.microBatches, rows) : 1;
    const rowSize = x.length / rows;
    const index = this.fed++;
    for (let micro = 0; micro < micros; micro++) {
      const a = Math.floor((rows * micro) / micros), b = Math.floor((rows * (micro + 1)) / micros);
      const data = micros === 1 ? x : x.slice(a * rowSize, b * rowSize);
      const message: ForwardMessage = {
        type: 'forward', index, micro, micros, epoch, epochs, share: (b - a) / rows,
        s: { data, shape: [b - a, ...shape.slice(1)] }, labels: labels.slice(a, b),
      };
      this.links[0]!.post(message, transferables(message.s, message.labels));
    }
  }

  async drain(): Promise<void> {
    await this.until(() => this.completed === this.fed);
  }

  /** Drains, then copies every stage's tensors and optimizer state into the coordinator's network and optimizer. */
  async collect(): Promise<void> {
    await this.drain();
    const states = await this.collectStates<BpStageState>();
    const { network, stages } = this.options;
    stages.forEach((g, k) => loadNamedTensors(moduleTensors(g.map((i) => network.layers[i]!), g, false), states[k]!.tensors, `stage ${k + 1}`));
    this.options.optimizer.loadState(joinStates(states.map((s) => s.optimizer)));
  }
}
