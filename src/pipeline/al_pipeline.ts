// The coordinator of pipelined AL on worker threads. It starts one worker per stage, joins
// neighbouring stages with their own message channel, ships each stage the initial state of its
// layers (the coordinator initialised the whole net from the seed, exactly as sequential AL does),
// then feeds mini-batches to stage 0 as fast as its credits allow. Stage k works on batch m while
// stage k+1 works on batch m−1. At a drain point (end of an epoch, a stop) it waits until the last
// stage has finished every batch fed so far, which leaves all layers consistent: each has seen
// exactly the same batches. Any stage failure rejects whatever the coordinator is waiting for
// with that stage's error and index, and every worker is terminated: the pipeline never hangs.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { LayerLosses } from '../al/al_layer.js';
import type { AssociatedNet } from '../al/associated_net.js';
import { TrainingError } from '../train/errors.js';
import { layerState, loadLayerState } from './al_stage.js';
import { transferables, type ALNetBlueprint, type BatchMessage, type FromStage, type LayerState, type StageFault, type TraceInterval } from './messages.js';

export class PipelineError extends TrainingError {
  override name = 'PipelineError';
  constructor(readonly stage: number, readonly layers: number[], message: string) {
    super(`pipeline stage ${stage + 1} (AL layer${layers.length > 1 ? 's' : ''} ${layers.map((l) => l + 1).join(', ')}): ${message}`);
  }
}

export interface ALPipelineOptions {
  blueprint: ALNetBlueprint;
  /** the coordinator's copy of the net: initial state comes from it, collected state goes back into it */
  net: AssociatedNet;
  /** 0-based AL layer indices of each stage, contiguous and in order, covering every layer */
  stages: number[][];
  /** compute threads per stage */
  threads: number;
  /** batches a queue between two stages may hold (default 2) */
  capacity?: number;
  /** record every stage's busy intervals */
  trace?: boolean;
  /** fault injection for tests: stage `stage` throws (or its worker exits) at batch `batch` */
  fault?: { stage: number } & StageFault;
}

export interface BatchDone {
  index: number;
  /** per AL layer, in order */
  losses: LayerLosses[];
}

/** Checks that stages are contiguous, ordered, non-empty groups covering layers 0..depth-1. */
export function checkStages(stages: number[][], depth: number): void {
  const flat = stages.flat();
  const ok = stages.length > 0 && stages.every((g) => g.length > 0) && flat.length === depth && flat.every((l, i) => l === i);
  if (!ok) throw new RangeError(`pipeline: stages ${JSON.stringify(stages)} must split AL layers 0..${depth - 1} into contiguous groups in order`);
}

const workerUrl = new URL('./stage_worker.js', import.meta.url);

export class ALPipeline {
  readonly intervals: TraceInterval[] = [];
  /** total busy ms of each stage since the start */
  readonly busy: number[];
  private readonly workers: Worker[] = [];
  private readonly pendingLosses = new Map<number, { count: number; losses: LayerLosses[][] }>();
  private readonly waiters: (() => void)[] = [];
  private readonly states = new Map<number, LayerState[]>();
  private error: Error | null = null;
  private credits: number;
  private fed = 0;
  private completed = 0;
  private ready = 0;
  private closing = false;
  private request = 0;
  /** called as each batch leaves the last stage, in order */
  onBatchDone: ((done: BatchDone) => void) | null = null;

  private constructor(private readonly options: ALPipelineOptions) {
    checkStages(options.stages, options.net.depth);
    this.credits = options.capacity ?? 2;
    this.busy = options.stages.map(() => 0);
  }

  /** Starts the workers and waits until every stage holds its layers. */
  static async start(options: ALPipelineOptions): Promise<ALPipeline> {
    const pipeline = new ALPipeline(options);
    try {
      pipeline.spawn();
      await pipeline.until(() => pipeline.ready === options.stages.length);
    } catch (error) {
      await pipeline.terminate();
      throw error;
    }
    return pipeline;
  }

  get stageCount(): number {
    return this.options.stages.length;
  }

  /** Batches that have left the last stage. */
  get batchesDone(): number {
    return this.completed;
  }

  private spawn(): void {
    const { stages, capacity = 2 } = this.options;
    const links: MessageChannel[] = stages.slice(1).map(() => new MessageChannel());
    stages.forEach((layers, k) => {
      const upstream: MessagePort | null = k > 0 ? links[k - 1]!.port2 : null;
      const downstream: MessagePort | null = k < stages.length - 1 ? links[k]!.port1 : null;
      const ports = [upstream, downstream].filter((p): p is MessagePort => p !== null);
      const worker = new Worker(workerUrl, { workerData: { upstream, downstream, capacity }, transferList: ports });
      worker.on('message', (m: FromStage) => this.onMessage(k, m));
      worker.on('error', (e) => this.fail(new PipelineError(k, layers, `${e.name}: ${e.message}`)));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new PipelineError(k, layers, `the worker exited unexpectedly (code ${code})`));
      });
      this.workers.push(worker);
      const init = {
        stage: k, stages: stages.length, blueprint: this.options.blueprint, layers,
        state: layers.map((i) => layerState(this.options.net.layers[i]!)),
        threads: this.options.threads, timeOrigin: performance.timeOrigin,
        ...(this.options.fault?.stage === k ? { fault: { batch: this.options.fault.batch, kind: this.options.fault.kind } } : {}),
      };
      worker.postMessage({ type: 'init', init });
    });
  }

  private onMessage(k: number, m: FromStage): void {
    switch (m.type) {
      case 'ready':
        this.ready++;
        break;
      case 'credit':
        this.credits++;
        break;
      case 'done':
        this.onDone(k, m.index, m.losses, m.interval);
        break;
      case 'state':
        if (m.request === this.request) this.states.set(k, m.layers);
        break;
      case 'error':
        this.fail(new PipelineError(k, this.options.stages[k]!, m.message));
        break;
    }
    this.notify();
  }

  private onDone(k: number, index: number, losses: LayerLosses[], interval: TraceInterval): void {
    this.busy[k]! += interval.end - interval.start;
    if (this.options.trace) this.intervals.push(interval);
    let entry = this.pendingLosses.get(index);
    if (!entry) this.pendingLosses.set(index, (entry = { count: 0, losses: this.options.stages.map(() => []) }));
    entry.losses[k] = losses;
    entry.count++;
    // Messages from different workers may arrive in any order, so a batch is done when every
    // stage has reported it, and batches are handed on in order.
    for (;;) {
      const next = this.pendingLosses.get(this.completed);
      if (!next || next.count < this.stageCount) break;
      this.pendingLosses.delete(this.completed);
      this.onBatchDone?.({ index: this.completed, losses: next.losses.flat() });
      this.completed++;
    }
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private fail(error: Error): void {
    if (this.error === null && !this.closing) this.error = error;
    this.notify();
  }

  /** Resolves when cond() holds; rejects with the first stage failure. */
  private async until(cond: () => boolean): Promise<void> {
    for (;;) {
      if (this.error) throw this.error;
      if (cond()) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Sends a mini-batch into stage 0, waiting for a free slot in its queue. Its buffers move. */
  async feed(x: Float32Array, shape: number[], labels: Int32Array, epoch: number, epochs: number): Promise<void> {
    await this.until(() => this.credits > 0);
    this.credits--;
    const message: BatchMessage = { type: 'batch', index: this.fed++, epoch, epochs, s: { data: x, shape }, labels };
    this.workers[0]!.postMessage(message, transferables(message.s, labels));
  }

  /** Waits until every batch fed so far has left the last stage. */
  async drain(): Promise<void> {
    await this.until(() => this.completed === this.fed);
  }

  /** Drains, then copies every stage's layer state (weights, buffers, optimizers) into the coordinator's net. */
  async collect(): Promise<void> {
    await this.drain();
    const request = ++this.request;
    this.states.clear();
    for (const worker of this.workers) worker.postMessage({ type: 'collect', request });
    await this.until(() => this.states.size === this.stageCount);
    this.options.stages.forEach((layers, k) => {
      const states = this.states.get(k)!;
      layers.forEach((i, j) => loadLayerState(this.options.net.layers[i]!, states[j]!));
    });
  }

  /** Stops every stage and waits for the workers to exit; after a failure, terminates them. */
  async close(): Promise<void> {
    if (this.error) return this.terminate();
    this.closing = true;
    const exits = this.workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
    for (const worker of this.workers) worker.postMessage({ type: 'stop' });
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 10_000, 'timeout').unref());
    if ((await Promise.race([Promise.all(exits), timeout])) === 'timeout') await this.terminate();
  }

  async terminate(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export type { BatchMessage };
