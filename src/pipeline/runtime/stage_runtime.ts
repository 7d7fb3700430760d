// The side every stage shares, in a worker thread or a process: the endpoints a stage was given,
// reports to the coordinator, the init / collect / stop protocol, and errors turned into an
// 'error' report that names the stage (after which the stage does nothing more: the coordinator
// stops the run). Only the endpoints differ between a thread and a process (transport.ts).
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { backend, hasBackend, setBackend } from '../../backend/backend.js';
import type { StageReport, StageWorkerData } from './stage_group.js';
import { portEndpoint, type StageLinks } from './transport.js';

export interface StageHandlers<Init> {
  /** builds the stage from its init message */
  init(init: Init): void;
  /** a method message from the coordinator, upstream or downstream */
  message(m: { type: string }, from: 'coordinator' | 'upstream' | 'downstream'): void;
  /** plain-data state for a collect at a drain point */
  state(): unknown;
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

  report(message: StageReport | ({ type: string } & Record<string, unknown>), transfer: ArrayBuffer[] = []): void {
    this.links.coordinator.post(message, transfer);
  }

  /** Where stage 0 sends what other stages send upstream: the coordinator. */
  postUpstream(message: { type: string }, transfer: ArrayBuffer[] = []): void {
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

  /** Wires a stage's handlers to its endpoints; exceptions in a handler become the stage's error. */
  run<Init extends { stage: number; threads: number }>(handlers: StageHandlers<Init>): void {
    const { coordinator, upstream, downstream } = this.links;
    const guarded = (from: 'coordinator' | 'upstream' | 'downstream') => (m: { type: string }): void => {
      if (this.isOver()) return;
      try {
        handlers.message(m, from);
      } catch (error) {
        this.fail(error);
      }
    };
    const fromCoordinator = guarded('coordinator');
    coordinator.on('message', (message) => {
      const m = message as { type: string; init?: Init; request?: number };
      switch (m.type) {
        case 'init':
          this.stageIndex = m.init!.stage;
          import('../../backend/native_backend.js').then(({ nativeBackend }) => {
            setBackend(nativeBackend);
            nativeBackend.setNumThreads(m.init!.threads);
            handlers.init(m.init!);
            this.report({ type: 'ready', stage: this.stageIndex });
          }).catch((e: unknown) => this.fail(e));
          break;
        case 'collect':
          if (!this.failed) this.report({ type: 'state', stage: this.stageIndex, request: m.request!, state: handlers.state() });
          // a collect is an epoch's end: a stage process gives its allocator's free heap memory
          // back (src/train/loop.ts, releaseEpochMemory). A stage on a worker thread leaves it to
          // the coordinator, whose call covers every heap of the process they share.
          if (isMainThread && hasBackend()) backend().releaseFreeMemory();
          break;
        case 'stop':
          this.stopped = true;
          upstream?.close();
          downstream?.close();
          coordinator.close();
          break;
        default:
          fromCoordinator(m);
      }
    });
    upstream?.on('message', guarded('upstream'));
    downstream?.on('message', guarded('downstream'));
  }
}

// The worker-thread API the stage workers use: one runtime over the worker's ports.
let workerRuntime: StageRuntime | null = null;
function runtime(): StageRuntime {
  return (workerRuntime ??= new StageRuntime(workerLinks()));
}
export const report: StageRuntime['report'] = (m, t) => runtime().report(m, t);
export const postUpstream: StageRuntime['postUpstream'] = (m, t) => runtime().postUpstream(m, t);
export const postDownstream = (m: { type: string }, transfer: ArrayBuffer[] = []): void => runtime().links.downstream!.post(m, transfer);
export function runStage<Init extends { stage: number; threads: number }>(handlers: StageHandlers<Init>): void {
  runtime().run(handlers);
}
