// The worker-thread side every stage shares: the ports a stage was given, reports to the
// coordinator, the init / collect / stop protocol, and errors turned into an 'error' report that
// names the stage (after which the stage does nothing more: the coordinator stops the run).
import { parentPort, workerData } from 'node:worker_threads';
import { setBackend } from '../backend/backend.js';
import type { StageReport, StageWorkerData } from './stage_group.js';

export interface StageHandlers<Init> {
  /** builds the stage from its init message */
  init(init: Init): void;
  /** a method message from the coordinator, upstream or downstream */
  message(m: { type: string }, from: 'coordinator' | 'upstream' | 'downstream'): void;
  /** plain-data state for a collect at a drain point */
  state(): unknown;
}

export const ports = workerData as StageWorkerData;
const coordinator = parentPort!;
let stageIndex = -1;
let failed = false;

export function report(message: StageReport | ({ type: string } & Record<string, unknown>), transfer: ArrayBuffer[] = []): void {
  coordinator.postMessage(message, transfer);
}

/** Where stage 0 sends what other stages send upstream: the coordinator. */
export function postUpstream(message: { type: string }, transfer: ArrayBuffer[] = []): void {
  (ports.upstream ?? coordinator).postMessage(message, transfer);
}

export function fail(error: unknown): void {
  if (failed) return;
  failed = true;
  const e = error instanceof Error ? error : new Error(String(error));
  report({ type: 'error', stage: stageIndex, name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
}

export function hasFailed(): boolean {
  return failed;
}

/** Wires a stage's handlers to its ports; exceptions in a handler become the stage's error. */
export function runStage<Init extends { stage: number; threads: number }>(handlers: StageHandlers<Init>): void {
  const guarded = (from: 'coordinator' | 'upstream' | 'downstream') => (m: { type: string }): void => {
    if (failed) return;
    try {
      handlers.message(m, from);
    } catch (error) {
      fail(error);
    }
  };
  const fromCoordinator = guarded('coordinator');
  coordinator.on('message', (m: { type: string; init?: Init; request?: number }) => {
    switch (m.type) {
      case 'init':
        stageIndex = m.init!.stage;
        import('../backend/native_backend.js').then(({ nativeBackend }) => {
          setBackend(nativeBackend);
          nativeBackend.setNumThreads(m.init!.threads);
          handlers.init(m.init!);
          report({ type: 'ready', stage: stageIndex });
        }).catch(fail);
        break;
      case 'collect':
        if (!failed) report({ type: 'state', stage: stageIndex, request: m.request!, state: handlers.state() });
        break;
      case 'stop':
        ports.upstream?.close();
        ports.downstream?.close();
        coordinator.close();
        break;
      default:
        fromCoordinator(m);
    }
  });
  ports.upstream?.on('message', guarded('upstream'));
  ports.downstream?.on('message', guarded('downstream'));
}
