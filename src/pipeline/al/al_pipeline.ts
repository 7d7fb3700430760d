// The coordinator of pipelined AL on worker threads or stage processes. It initialises the whole net from the seed,
// exactly as sequential AL does, ships each stage the state of its layers, then feeds mini-batches
// to stage 0 as fast as its credits allow: stage k works on batch m while stage k+1 works on batch
// m−1. At a drain point (end of an epoch, a stop) it waits until every stage has finished every
// batch fed so far, which leaves all layers consistent (each has seen exactly the same batches),
// and collects their state back into its own copy of the net for evaluation and checkpoints.
//
// A test evaluation mid-epoch needs no drain: the coordinator marks the batch to evaluate after
// (feed with `mark`), each stage sends a copy of what prediction reads of its layers once it has
// trained on that batch and holds a few batches later (stage k of K after K-1-k more), and
// `snapshot` waits for the copies and the holds. The model evaluated is exactly the one a drain
// would have collected after that batch, and no stage idles for it: the first stage is K-1
// batches ahead, as in the pipeline's steady state, and the next feed resumes every stage.
//
// The weights live in one place at a time, so a pipelined run needs about the memory of a
// sequential one: the coordinator's net gives its arrays to the stages (moved to worker threads,
// freed here after a stage process has its copy) and holds none while they train; a collect hands
// it copies, which it gives up again at the next batch it feeds; the run's last collect moves the
// stages' own arrays instead of copying them.
import type { LayerLosses } from '../../al/al_layer.js';
import type { AssociatedNet } from '../../al/associated_net.js';
import { detachBuffers, layerState, loadLayerSnapshot, loadLayerState, moduleUrl, movableBuffers, snapshotBuffers } from './al_stage.js';
import { AL_REPORTS, type ALReport, type ALStageInit, type LayerSnapshot, type LayerState, type MarkMessage, type StageFault } from './al_messages.js';
import { transferables, type ALStageNet, type BatchMessage, type TraceInterval } from '../runtime/messages.js';
import { StageGroup, checkStages, type BatchDone, type PipelineEngine, type StageProcesses } from '../runtime/stage_group.js';

export { PipelineError } from '../runtime/stage_group.js';

export interface ALPipelineOptions {
  /**
   * what each stage builds its layers from: a built-in backbone's blueprint, or the module of a
   * net of the user's own layers (ALNetModule), which must build the same net as `net`
   */
  blueprint: ALStageNet;
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
  /** stage processes (`al stage --listen`), one HOST:PORT per stage; without it, worker threads */
  processes?: StageProcesses;
  /** fault injection for tests: stage `stage` throws (or its worker exits) at batch `batch` */
  fault?: { stage: number } & StageFault;
}

const workerUrl = new URL('./al_worker.js', import.meta.url);

export class ALPipeline extends StageGroup<ALReport> implements PipelineEngine {
  private readonly pendingLosses = new Map<number, { count: number; losses: LayerLosses[][] }>();
  private credits: number;
  private fed = 0;
  private completed = 0;
  /** the buffers of the state the last collect or snapshot brought, which the next feed gives up */
  private collected: ArrayBuffer[] = [];
  /** the batch index of each mark not yet evaluated, with the snapshots that came for it, by stage */
  private readonly marks = new Map<number, (LayerSnapshot[] | undefined)[]>();
  /** the last batch index each stage has finished */
  private readonly finished: number[];
  /** the mark the stages hold for since the last snapshot (null: none) */
  private holdingFor: number | null = null;
  /** ms each stage process spent in the transport (zmq_transport.ts WireClock); 0 on worker threads */
  readonly wireMs: number[];
  /** called as each batch has left every stage, in batch order */
  onBatchDone: ((done: BatchDone) => void) | null = null;

  private constructor(private readonly options: ALPipelineOptions) {
    checkStages(options.stages, options.net.depth);
    super(options.stages.length, (k) => {
      const layers = options.stages[k]!;
      return `AL layer${layers.length > 1 ? 's' : ''} ${layers.map((l) => l + 1).join(', ')}`;
    }, options.trace ?? false, AL_REPORTS);
    this.credits = options.capacity ?? 2;
    this.wireMs = new Array<number>(options.stages.length).fill(0);
    this.finished = new Array<number>(options.stages.length).fill(-1);
  }

  /** Batches the first stage is ahead of the last when the stages hold for a snapshot. */
  get lag(): number {
    return this.stageCount - 1;
  }

  /** Starts the workers (or connects to the stage processes) and waits until every stage holds its layers. */
  static async start(options: ALPipelineOptions): Promise<ALPipeline> {
    const pipeline = new ALPipeline(options);
    const { stages, net, threads, fault } = options;
    // a relative module path is the coordinator's: the stages get it resolved
    const blueprint = 'module' in options.blueprint ? { ...options.blueprint, module: moduleUrl(options.blueprint.module) } : options.blueprint;
    const given: ArrayBuffer[] = [];
    const init = (k: number): { message: ALStageInit; transfer: ArrayBuffer[] } => {
      const state = stages[k]!.map((i) => layerState(net.layers[i]!, true));
      const transfer = state.flatMap(movableBuffers);
      given.push(...transfer);
      return {
        message: {
          stage: k, stages: stages.length, blueprint, layers: stages[k]!, state, threads, timeOrigin: performance.timeOrigin,
          ...(fault?.stage === k ? { fault: { batch: fault.batch, kind: fault.kind } } : {}),
        },
        transfer,
      };
    };
    const capacity = options.capacity ?? 2;
    const { processes } = options;
    if (processes) await pipeline.attach('al', processes, capacity, init);
    else await pipeline.spawn('al', workerUrl, capacity, init);
    // every stage holds its layers: what the coordinator still has of them (a stage process got a copy) goes
    detachBuffers(given);
    return pipeline;
  }

  /** Batches that have left every stage. */
  get batchesDone(): number {
    return this.completed;
  }

  protected onStageMessage(k: number, m: ALReport): void {
    if (m.type === 'credit') {
      this.credits++;
      return;
    }
    if (m.type === 'snapshot') {
      // a snapshot of a mark a collect has overtaken is dropped
      const slots = this.marks.get(m.index);
      if (slots) slots[k] = m.layers;
      return;
    }
    if (typeof m.wireMs === 'number') this.wireMs[k]! += m.wireMs;
    this.onDone(k, m.index, m.losses, m.interval);
  }

  private onDone(k: number, index: number, losses: LayerLosses[], interval: TraceInterval): void {
    this.record(interval);
    this.finished[k] = index;
    let entry = this.pendingLosses.get(index);
    if (!entry) this.pendingLosses.set(index, (entry = { count: 0, losses: this.options.stages.map(() => []) }));
    entry.losses[k] = losses;
    entry.count++;
    // Reports of different workers may arrive in any order: a batch is done when every stage has
    // reported it, and batches are handed on in order.
    for (;;) {
      const next = this.pendingLosses.get(this.completed);
      if (!next || next.count < this.stageCount) break;
      this.pendingLosses.delete(this.completed);
      const layers = next.losses.flat();
      const loss = layers.reduce((sum, l) => sum + l.associatedLoss + l.autoencoderLoss, 0);
      this.onBatchDone?.({ index: this.completed, loss, correct: null, layers });
      this.completed++;
    }
  }

  /**
   * Sends a mini-batch into stage 0, waiting for a free slot in its queue. Its buffers move.
   * `mark`: a snapshot after this batch is wanted (see snapshot).
   */
  async feed(x: Float32Array, shape: number[], labels: Int32Array, epoch: number, epochs: number, mark = false): Promise<void> {
    // the stages train on: the state the last collect brought is out of date, and goes
    if (this.collected.length > 0) detachBuffers(this.collected.splice(0));
    this.resume();
    await this.until(() => this.credits > 0);
    this.credits--;
    const index = this.fed++;
    const message: BatchMessage = { type: 'batch', index, epoch, epochs, s: { data: x, shape }, labels };
    this.links[0]!.post(message, transferables(message.s, labels));
    if (mark) {
      this.marks.set(index, new Array<LayerSnapshot[] | undefined>(this.stageCount).fill(undefined));
      this.links[0]!.post({ type: 'mark', index } satisfies MarkMessage);
    }
  }

  /**
   * Brings what prediction reads of every layer (f, h, the last b) into the coordinator's net as
   * it stood after the oldest marked batch not yet evaluated, once every stage has reached its
   * hold: the stages are idle until the next feed. Without a marked batch, a collect.
   */
  async snapshot(): Promise<void> {
    const index = Math.min(...this.marks.keys());
    if (!Number.isFinite(index)) return this.collect();
    const layers = this.marks.get(index)!;
    // the hold of the snapshot before (evaluated by now) would stop the stages short of this one
    this.resume();
    // stage k holds after batch index + K-1-k, or after the last batch fed if that is sooner
    const holds = (k: number): boolean => this.finished[k]! >= Math.min(index + this.lag - k, this.fed - 1);
    await this.until(() => layers.every((l) => l !== undefined) && this.finished.every((_, k) => holds(k)));
    this.marks.delete(index);
    this.holdingFor = index;
    this.options.stages.forEach((indices, k) => indices.forEach((i, j) => {
      loadLayerSnapshot(this.options.net.layers[i]!, layers[k]![j]!, i === this.options.net.depth - 1);
    }));
    this.collected = layers.flatMap((stage) => stage!.flatMap(snapshotBuffers));
  }

  /** Lets stages holding for a snapshot (or about to, for marks a collect overtakes) go on. */
  private resume(through = this.holdingFor ?? -1): void {
    if (through < 0) return;
    for (const link of this.links) link.post({ type: 'resume', index: through });
    this.holdingFor = null;
  }

  /** Waits until every batch fed so far has left every stage. */
  async drain(): Promise<void> {
    await this.until(() => this.completed === this.fed);
  }

  /**
   * Drains, then brings every stage's layer state (weights, buffers, optimizers) into the
   * coordinator's net, which takes the arrays as its own; `handOver`: the run's last collect, no
   * batch follows, and the stages give their own arrays instead of copies.
   */
  async collect(options: { handOver?: boolean } = {}): Promise<void> {
    // marks not evaluated are given up: no stage may hold for them, or the drain would wait forever
    this.resume(Math.max(this.holdingFor ?? -1, ...this.marks.keys()));
    this.marks.clear();
    await this.drain();
    const handOver = options.handOver === true;
    const states = await this.collectStates<LayerState[]>(handOver);
    this.options.stages.forEach((layers, k) => layers.forEach((i, j) => loadLayerState(this.options.net.layers[i]!, states[k]![j]!, true)));
    if (!handOver) this.collected = states.flat().flatMap(movableBuffers);
  }
}
