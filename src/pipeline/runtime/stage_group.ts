// What every pipeline coordinator does with its stages, whatever the method: start one worker
// thread per stage (or connect to one stage process each, over ZeroMQ), join neighbouring stages
// directly (so activations and gradients go straight from stage to stage, never through the
// coordinator), wait for conditions
// on the stages' reports, collect state at drain points, and turn any stage failure (an error
// message, an uncaught exception, a worker that exits, a process whose connection drops) into a
// PipelineError naming the stage (and its address), which
// rejects whatever the coordinator is waiting for. Nothing waits forever on a dead stage.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { TrainingError } from '../../train/errors.js';
import { STAGE_REPORTS, type StageReport, type TraceInterval } from './messages.js';
import { parseMessage, type ChannelSpec } from './parse.js';
import type { LinkCallbacks, StageLink } from './transport.js';
import { DownstreamLostError } from './errors.js';
import { connectStageProcess } from './zmq_transport.js';
import type { CurveKeys } from './curve.js';

export class PipelineError extends TrainingError {
  override name = 'PipelineError';
  constructor(readonly stage: number, what: string, message: string) {
    super(`pipeline stage ${stage + 1} (${what}): ${message}`);
  }
}

/** A mini-batch that has left every stage. */
export interface BatchDone {
  index: number;
  /** the method's training loss on the batch (AL: the sum of every layer's two losses) */
  loss: number;
  /** correct predictions on the batch, where the method makes them during training (BP) */
  correct: number | null;
  /** AL: losses per layer, in order */
  layers?: { associatedLoss: number; autoencoderLoss: number }[];
  /** naive BP: optimizer updates between a forward and its backward, summed over stages */
  staleness?: number;
}

/** What the epoch loop needs of a running pipeline, whatever the method. */
export interface PipelineEngine {
  readonly busy: number[];
  readonly batchesDone: number;
  onBatchDone: ((done: BatchDone) => void) | null;
  /** sends a mini-batch in; resolves when the pipeline has room for it (its buffers move); `mark`: see snapshot */
  feed(x: Float32Array, shape: number[], labels: Int32Array, epoch: number, epochs: number, mark?: boolean): Promise<void>;
  /**
   * a pipeline that evaluates without draining: brings the model as it stood after the oldest
   * marked batch into the coordinator's, `lag` batches after that batch was fed
   */
  snapshot?(): Promise<void>;
  readonly lag?: number;
  /**
   * waits for every batch fed so far, then brings every stage's state into the coordinator's
   * model; `handOver`: the run's last collect, after which no batch is fed (the stages may give
   * up their arrays instead of copying them)
   */
  collect(options?: { handOver?: boolean }): Promise<void>;
}

/** Stage processes to run a pipeline on (`al stage --listen`): one HOST:PORT per stage, in order. */
export interface StageProcesses {
  addresses: string[];
  /** the run's secret, if the stage processes hold one (with keys it is optional) */
  token?: string | undefined;
  /** the coordinator's keys and each stage's public key, in stage order; without it, plaintext on loopback only */
  curve?: StageKeys | undefined;
  connectTimeoutMs?: number;
}

/** The keys of a run on stage processes: the coordinator's keypair and each stage's public key. */
export interface StageKeys {
  keys: CurveKeys;
  stageKeys: string[];
}

export interface StageWorkerData {
  /** the previous stage's end of their channel (null on stage 0, whose upstream is the coordinator) */
  upstream: MessagePort | null;
  /** the next stage's end of their channel (null on the last stage) */
  downstream: MessagePort | null;
  /** batches a queue between two stages may hold */
  capacity: number;
}

/** Checks that stages are contiguous, ordered, non-empty groups covering items 0..count-1. */
export function checkStages(stages: number[][], count: number, what = 'AL layers'): void {
  const flat = stages.flat();
  const ok = stages.length > 0 && stages.every((g) => g.length > 0) && flat.length === count && flat.every((l, i) => l === i);
  if (!ok) throw new RangeError(`pipeline: stages ${JSON.stringify(stages)} must split ${what} 0..${count - 1} into contiguous groups in order`);
}

/** A stage's init message, and the buffers it owns outright: moved to a worker thread, not copied. */
export interface StageInitPayload {
  message: unknown;
  transfer?: ArrayBuffer[];
}

export abstract class StageGroup<Report extends { type: string }> {
  readonly intervals: TraceInterval[] = [];
  /** total busy ms of each stage since the start */
  readonly busy: number[];
  /** one per stage: a worker thread or a stage process */
  protected readonly links: StageLink[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly states = new Map<number, unknown>();
  private error: Error | null = null;
  private ready = 0;
  private closing = false;
  private request = 0;

  /** every report a stage may send: those of every stage and the method's own */
  private readonly reports: ChannelSpec<StageReport | Report>;

  /**
   * `describe(k)` names what stage k holds, for error messages ("AL layers 2, 3"); `reports`
   * declares the method's own reports, which are parsed as they arrive.
   */
  protected constructor(readonly stageCount: number, private readonly describe: (k: number) => string, protected readonly trace: boolean, reports: ChannelSpec<Report>) {
    this.busy = new Array<number>(stageCount).fill(0);
    this.reports = { ...STAGE_REPORTS, ...reports } as ChannelSpec<StageReport | Report>;
  }

  /** What a stage's link reports into: a report that does not parse fails that stage. */
  private callbacks(k: number): LinkCallbacks {
    return {
      message: (raw) => {
        let m: StageReport | Report;
        try {
          m = parseMessage(`stage ${k + 1} to the coordinator`, this.reports, raw);
        } catch (error) {
          return this.fail(k, `${(error as Error).name}: ${(error as Error).message}`);
        }
        this.onReport(k, m);
        this.notify();
      },
      fail: (message) => this.fail(k, message),
    };
  }

  /** Starts the workers, sends each its init message, and waits until every stage is ready. */
  protected async spawn(program: string, url: URL, capacity: number, init: (k: number) => StageInitPayload): Promise<void> {
    const links = Array.from({ length: this.stageCount - 1 }, () => new MessageChannel());
    for (let k = 0; k < this.stageCount; k++) {
      const upstream = k > 0 ? links[k - 1]!.port2 : null;
      const downstream = k < this.stageCount - 1 ? links[k]!.port1 : null;
      const data: StageWorkerData = { upstream, downstream, capacity };
      const worker = new Worker(url, { workerData: data, transferList: [upstream, downstream].filter((p): p is MessagePort => p !== null) });
      this.links.push(workerLink(worker, this.callbacks(k), () => this.closing));
      const { message, transfer } = init(k);
      worker.postMessage({ type: 'init', program, init: message }, transfer ?? []);
    }
    await this.untilReady();
  }

  /**
   * Connects to one stage process per address (`al stage --listen`), in stage order, presenting
   * the run's token; sends each its init, the stage program to run (`program`, a name the stage
   * server knows) and its downstream neighbour's address, and waits until every stage is ready. A stage that cannot be reached fails with its address.
   */
  protected async attach(program: string, processes: StageProcesses, capacity: number, init: (k: number) => StageInitPayload): Promise<void> {
    const { addresses, token, curve, connectTimeoutMs } = processes;
    if (addresses.length !== this.stageCount) throw new RangeError(`pipeline: ${addresses.length} stage addresses for ${this.stageCount} stages`);
    if (curve && curve.stageKeys.length !== this.stageCount) throw new RangeError(`pipeline: ${curve.stageKeys.length} stage public keys for ${this.stageCount} stages`);
    const client = (k: number) => (curve ? { keys: curve.keys, serverKey: curve.stageKeys[k]! } : undefined);
    const settled = await Promise.allSettled(addresses.map((address, k) => connectStageProcess(address, token ?? '', this.callbacks(k), connectTimeoutMs, client(k))));
    // the stages that did answer are released too, else they would stay busy with a run that never starts
    for (const s of settled) if (s.status === 'fulfilled') this.links.push(s.value);
    const refused = settled.findIndex((s) => s.status === 'rejected');
    if (refused >= 0) {
      await this.terminate();
      throw new PipelineError(refused, this.describe(refused), ((settled[refused] as PromiseRejectedResult).reason as Error).message);
    }
    // each stage connects to its downstream neighbour with the same timeout: that neighbour may be
    // busy building its layers from its own init, which holds up its answer
    // a stage connects to its downstream neighbour by the public key the coordinator holds for it
    addresses.forEach((_, k) => this.links[k]!.post({
      type: 'init', program, init: init(k).message, downstream: addresses[k + 1] ?? null, capacity,
      ...(curve ? { downstreamKey: curve.stageKeys[k + 1] ?? null } : {}), ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
    }));
    await this.untilReady();
  }

  private async untilReady(): Promise<void> {
    try {
      await this.until(() => this.ready === this.stageCount);
    } catch (error) {
      await this.terminate();
      throw error;
    }
  }

  private onReport(k: number, m: StageReport | Report): void {
    if (!isStageReport(m)) return this.onStageMessage(k, m);
    switch (m.type) {
      case 'ready':
        this.ready++;
        return;
      case 'state':
        if (m.request === this.request) this.states.set(k, m.state);
        return;
      case 'error': {
        const where = this.links[k]?.where;
        // a stage that lost its downstream neighbour often says so before the coordinator's own
        // link to that neighbour notices: the failure is the neighbour's, and the error names it
        if (m.name === DownstreamLostError.name && k + 1 < this.stageCount) this.fail(k + 1, `${m.message}, as stage ${k + 1}${where ? ` at ${where}` : ''} reports`);
        else this.fail(k, where ? `the stage process at ${where} reports ${m.name}: ${m.message}` : m.message);
      }
    }
  }

  /** The method's own reports (done, credit, ...). */
  protected abstract onStageMessage(k: number, m: Report): void;

  /** Books a busy interval of stage k. */
  protected record(interval: TraceInterval): void {
    this.busy[interval.stage]! += interval.end - interval.start;
    if (this.trace) this.intervals.push(interval);
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  protected fail(k: number, message: string): void {
    if (this.error === null && !this.closing) this.error = new PipelineError(k, this.describe(k), message);
    this.notify();
  }

  /** Resolves when cond() holds; rejects with the first stage failure. */
  protected async until(cond: () => boolean): Promise<void> {
    for (;;) {
      if (this.error) throw this.error;
      if (cond()) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Asks every stage for its state (call at a drain point) and returns them by stage; `handOver`: the run's last collect. */
  protected async collectStates<State>(handOver = false): Promise<State[]> {
    const request = ++this.request;
    this.states.clear();
    for (const link of this.links) link.post({ type: 'collect', request, ...(handOver ? { handOver } : {}) });
    await this.until(() => this.states.size === this.stageCount);
    return Array.from({ length: this.stageCount }, (_, k) => this.states.get(k) as State);
  }

  /** Stops every stage and waits until each has stopped; after a failure, terminates them. */
  async close(): Promise<void> {
    if (this.error) return this.terminate();
    this.closing = true;
    await Promise.all(this.links.map((link) => link.stop()));
  }

  async terminate(): Promise<void> {
    this.closing = true;
    await Promise.all(this.links.map((link) => link.terminate()));
  }
}

function isStageReport(m: { type: string }): m is StageReport {
  return Object.hasOwn(STAGE_REPORTS, m.type);
}

/** A worker thread as a StageLink: its errors and an unexpected exit fail the stage. */
function workerLink(worker: Worker, callbacks: LinkCallbacks, closing: () => boolean): StageLink {
  worker.on('message', (m: { type: string }) => callbacks.message(m));
  worker.on('error', (e) => callbacks.fail(`${e.name}: ${e.message}`));
  worker.on('exit', (code) => {
    if (!closing()) callbacks.fail(`the worker exited unexpectedly (code ${code})`);
  });
  return {
    where: null,
    post: (message, transfer = []) => worker.postMessage(message, transfer),
    async stop() {
      const exit = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ type: 'stop' });
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 10_000, 'timeout').unref());
      if ((await Promise.race([exit, timeout])) === 'timeout') await worker.terminate();
    },
    async terminate() {
      await worker.terminate();
    },
  };
}
