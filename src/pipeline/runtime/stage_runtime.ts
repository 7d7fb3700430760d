// The side every stage shares, in a worker thread or a process: the endpoints a stage was given,
// reports to the coordinator, the init / collect / stop protocol, and errors turned into an
// 'error' report that names the stage (after which the stage does nothing more: the coordinator
// stops the run). Only the endpoints differ between a thread and a process (transport.ts).
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { backend, hasBackend, setBackend } from '../../backend/backend.js';
import { checkThreadCount } from '../../backend/kernel_names.js';
import { CONTROL, STAGE_INIT_FIELDS, type ControlMessage, type StageInitBase, type StageReport } from './messages.js';
import { checkFields, parseMessage, type ChannelSpec, type Fields } from './parse.js';
import type { StageWorkerData } from './stage_group.js';
import { portEndpoint, type StageLinks } from './transport.js';

/** A stage program's messages, declared once and checked by the runtime as they arrive. */
export interface StageChannels<In extends { type: string }, Back extends { type: string }> {
  /** the fields of the program's init beyond those every stage's init has */
  init: Fields;
  /** what travels downstream into the stage: from the previous stage (stage 0: the coordinator) */
  inbound: ChannelSpec<In>;
  /** what comes back upstream from the next stage */
  feedback: ChannelSpec<Back>;
}

export interface StageHandlers<Init extends StageInitBase, In extends { type: string }, Back extends { type: string }> {
  channels: StageChannels<In, Back>;
  /** builds the stage from its init message */
  init(init: Init): void | Promise<void>;
  /** a method message from upstream (or the coordinator) or downstream */
  message(m: In | Back): void;
  /**
   * plain-data state for a collect at a drain point, and the buffers that may move with it; with
   * `handOver` (the run's last collect) the stage may give up the arrays it trains in
   */
  state(handOver: boolean): StageState;
  /** the coordinator is done with the snapshot of mark `index` (a method that sends snapshots) */
  resume?(index: number): void;
}

export interface StageState {
  state: unknown;
  /** buffers the state owns outright: transferred to the coordinator, not copied */
  transfer?: ArrayBuffer[];
}

/** A worker thread's endpoints: its parent and the ports it was started with. */
export function workerLinks(): StageLinks {
  const data = workerData as StageWorkerData;
  const wrap = (port: MessagePort | null) => (port ? portEndpoint(port) : null);
  return { coordinator: portEndpoint(parentPort!), upstream: wrap(data.upstream), downstream: wrap(data.downstream), capacity: data.capacity };
}

export class StageRuntime {
  private stageIndex = -1;
  private failed = false;
  /** the coordinator's stop came: batches still queued are dropped, not run */
  private stopped = false;

  constructor(readonly links: StageLinks) {}

  report<M extends { type: string }>(message: M | StageReport, transfer: ArrayBuffer[] = []): void {
    this.links.coordinator.post(message, transfer);
  }

  /** To the next stage; only a stage that has one sends downstream. */
  postDownstream<M extends { type: string }>(message: M, transfer: ArrayBuffer[] = []): void {
    this.links.downstream!.post(message, transfer);
  }

  /** Where stage 0 sends what other stages send upstream: the coordinator. */
  postUpstream<M extends { type: string }>(message: M, transfer: ArrayBuffer[] = []): void {
    (this.links.upstream ?? this.links.coordinator).post(message, transfer);
  }

  fail(error: unknown): void {
    if (this.isOver()) return;
    this.failed = true;
    const e = error instanceof Error ? error : new Error(String(error));
    this.report({ type: 'error', stage: this.stageIndex, name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
  }

  /** failed or stopped: the stage does no more work */
  isOver(): boolean {
    return this.failed || this.stopped;
  }

  /** "stage 2 from upstream": where a bad message came from, for its error. */
  private channel(from: string): string {
    return this.stageIndex >= 0 ? `stage ${this.stageIndex + 1} from ${from}` : `a stage from ${from}`;
  }

  /**
   * Wires a stage's handlers to its endpoints. Every message is parsed here, against the control
   * messages and the program's channels; a message that does not fit, and any exception of a
   * handler, becomes the stage's error.
   */
  run<Init extends StageInitBase, In extends { type: string }, Back extends { type: string }>(handlers: StageHandlers<Init, In, Back>): void {
    const { coordinator, upstream, downstream } = this.links;
    const { channels } = handlers;
    const receive = <M extends { type: string }>(from: string, spec: ChannelSpec<M>, handle: (m: M) => void) => (raw: unknown): void => {
      try {
        handle(parseMessage(this.channel(from), spec, raw));
      } catch (error) {
        this.fail(error);
      }
    };
    const method = (m: In | Back): void => {
      if (!this.isOver()) handlers.message(m);
    };
    const fromCoordinator: ChannelSpec<ControlMessage | In> = { ...CONTROL, ...channels.inbound };
    coordinator.on('message', receive('the coordinator', fromCoordinator, (m) => (isControl(m) ? this.control(m, handlers) : method(m))));
    upstream?.on('message', receive('upstream', channels.inbound, method));
    downstream?.on('message', receive('downstream', channels.feedback, method));
  }

  /** init, collect, resume and stop: obeyed even after a failure (a collect then goes unanswered). */
  private control<Init extends StageInitBase>(m: ControlMessage, handlers: StageHandlers<Init, never, never>): void {
    switch (m.type) {
      case 'init': {
        checkFields(`${this.channel('the coordinator')}: 'init' message's init`, { ...STAGE_INIT_FIELDS, ...handlers.channels.init }, m.init);
        const init = m.init as Init;
        this.stageIndex = init.stage;
        import('../../backend/native_backend.js').then(async ({ nativeBackend }) => {
          setBackend(nativeBackend);
          nativeBackend.setNumThreads(checkThreadCount(init.threads, 'stage init', 'threads'));
          await handlers.init(init);
          this.report({ type: 'ready', stage: this.stageIndex });
        }).catch((e: unknown) => this.fail(e));
        return;
      }
      case 'collect':
        if (!this.failed) {
          const { state, transfer } = handlers.state(m.handOver === true);
          this.report({ type: 'state', stage: this.stageIndex, request: m.request, state }, transfer);
        }
        // a collect is an epoch's end: a stage process gives its allocator's free heap memory
        // back (src/train/loop.ts, releaseEpochMemory). A stage on a worker thread leaves it to
        // the coordinator, whose call covers every heap of the process they share.
        if (isMainThread && hasBackend()) backend().releaseFreeMemory();
        return;
      case 'resume':
        if (!this.isOver()) handlers.resume?.(m.index);
        return;
      case 'stop':
        this.stopped = true;
        this.links.upstream?.close();
        this.links.downstream?.close();
        this.links.coordinator.close();
    }
  }
}

function isControl(m: { type: string }): m is ControlMessage {
  return Object.hasOwn(CONTROL, m.type);
}
