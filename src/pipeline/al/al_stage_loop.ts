// A stage of pipelined AL on any transport: an ALStage wired to the endpoints of a StageRuntime.
// A worker thread (al_worker.ts) and a stage process (runtime/stage_server.ts) both run this.
//
//   coordinator ──▶ stage 0 ──▶ stage 1 ──▶ ... (batches: (s, t) and the labels)
//
// Flow control is by credits: a stage starts a batch only while its downstream queue has a free
// slot, and gives its upstream a credit back whenever it takes a batch out of its own queue, so
// every queue holds at most its capacity and memory stays flat however long the run. Credits are
// the only messages that travel upstream, and they carry no data: AL needs no backward messages.
//
// A mark (al_messages.ts, MarkMessage) follows a batch down the pipeline and takes no queue slot:
// each stage answers it with a snapshot of its layers and holds after a few more batches, so that
// the coordinator evaluates a consistent model while no stage has fallen idle for it.
import { Tensor } from '../../tensor/tensor.js';
import { ALStage, buildStageNet, loadLayerState, movableBuffers, snapshotBuffers } from './al_stage.js';
import { AL_CHANNELS, type ALReport, type ALStageInit, type CreditMessage, type MarkMessage } from './al_messages.js';
import { toWire, traceInterval, transferables, type BatchMessage } from '../runtime/messages.js';
import type { StageRuntime } from '../runtime/stage_runtime.js';

export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

/**
 * Where stage k of K holds for the marks it has answered and the coordinator has not let go: it
 * trains no batch past the oldest one's index + K-1-k.
 */
export class Holds {
  private readonly marks: number[] = [];
  /** the last mark let go: a mark up to it sets no hold, even if it comes after the resume */
  private resumedThrough = -1;

  constructor(private readonly stage: number, private readonly stages: number) {}

  /** Holds for the mark; false, and no hold, for a mark already let go (a resume overtook it). */
  mark(index: number): boolean {
    if (index <= this.resumedThrough) return false;
    this.marks.push(index);
    return true;
  }

  /** Lets go of the marks up to `index`, reached or not (fewer batches may have come after them). */
  resume(index: number): void {
    this.resumedThrough = Math.max(this.resumedThrough, index);
    while (this.marks.length > 0 && this.marks[0]! <= index) this.marks.shift();
  }

  /** Whether the batch must wait for a resume. */
  holds(batch: number): boolean {
    return this.marks.length > 0 && batch > this.marks[0]! + this.stages - 1 - this.stage;
  }
}

/**
 * Every batch up to the mark is trained: the snapshot goes to the coordinator, the mark on
 * downstream. A mark a collect has overtaken is dropped: the coordinator wants no snapshot of it,
 * every stage had the resume, and after the run's last collect this stage has no layers to copy.
 */
function answer(runtime: StageRuntime, init: ALStageInit, stage: ALStage, holds: Holds, mark: MarkMessage): void {
  if (!holds.mark(mark.index)) return;
  const layers = stage.snapshots(init.stage === init.stages - 1);
  runtime.report<ALReport>({ type: 'snapshot', stage: init.stage, index: mark.index, layers }, layers.flatMap(snapshotBuffers));
  runtime.links.downstream?.post(mark);
}

/** One step of the stage's layers on the batch, reported; returns the batch for the stage downstream, if any. */
function train(runtime: StageRuntime, init: ALStageInit, stage: ALStage, batch: BatchMessage): BatchMessage | null {
  const begin = performance.now();
  if (init.fault?.batch === batch.index) {
    if (init.fault.kind === 'exit') process.exit(3);
    throw new InjectedFault(`fault injected at batch ${batch.index}`);
  }
  const s = new Tensor(batch.s.data, batch.s.shape);
  const t = batch.t ? new Tensor(batch.t.data, batch.t.shape) : null;
  const out = stage.step(s, t, batch.labels ?? null, batch.epoch, batch.epochs);
  runtime.report<ALReport>({
    type: 'done', stage: init.stage, index: batch.index, losses: out.losses,
    interval: traceInterval(init, batch.index, 'step', begin, performance.now()),
  });
  if (runtime.links.downstream === null) return null;
  return {
    type: 'batch', index: batch.index, epoch: batch.epoch, epochs: batch.epochs,
    // s leaves in NHWC, the layout of the wire (a blocked s is reordered: an exact copy)
    s: toWire(out.s.toLayout('nhwc').data, out.s.shape), t: toWire(out.t.data, out.t.shape),
    ...(batch.labels ? { labels: batch.labels } : {}),
  };
}

export function runALStage(runtime: StageRuntime): void {
  const { downstream } = runtime.links;
  const inbox: (BatchMessage | MarkMessage)[] = [];
  let credits = runtime.links.capacity;
  let holds: Holds | null = null;
  let stage: ALStage | null = null;
  let init: ALStageInit | null = null;
  let pumping = false;
  /** the layers' arrays went to the coordinator with the run's last collect */
  let handedOver = false;

  function run(batch: BatchMessage): void {
    if (handedOver) throw new Error(`stage ${init!.stage + 1}: batch ${batch.index} came after the run's last collect took this stage's layers`);
    const next = train(runtime, init!, stage!, batch);
    if (downstream && next) {
      credits--;
      downstream.post(next, transferables(next.s, next.t, next.labels));
    }
  }

  /** Runs queued batches while downstream has room; yields between batches so credits get in. */
  function pump(): void {
    if (pumping || stage === null || runtime.isOver()) return;
    if (inbox[0]?.type === 'mark') {
      try {
        answer(runtime, init!, stage, holds!, inbox.shift() as MarkMessage);
      } catch (error) {
        runtime.fail(error);
      }
      setImmediate(pump);
      return;
    }
    const batch = inbox[0] as BatchMessage | undefined;
    if (batch === undefined || holds!.holds(batch.index) || (downstream !== null && credits <= 0)) return;
    pumping = true;
    inbox.shift();
    runtime.postUpstream<CreditMessage>({ type: 'credit' });
    // The step holds this thread: first let the event loop turn once, so that the credit and
    // anything else a transport still has to write leave now, not after the step.
    setImmediate(() => {
      if (!runtime.isOver()) {
        try {
          run(batch);
        } catch (error) {
          runtime.fail(error);
        }
      }
      pumping = false;
      setImmediate(pump);
    });
  }

  runtime.run<ALStageInit, BatchMessage | MarkMessage, CreditMessage>({
    channels: AL_CHANNELS,
    async init(message) {
      const { layers, classes } = await buildStageNet(message.blueprint, message.layers);
      message.state.forEach((state, i) => loadLayerState(layers[i]!, state, true));
      init = message;
      holds = new Holds(message.stage, message.stages);
      stage = new ALStage(layers, classes);
      pump();
    },
    message(m) {
      if (m.type === 'credit') credits++;
      else inbox.push(m);
      pump();
    },
    resume(index) {
      holds?.resume(index);
      pump();
    },
    state(handOver) {
      // the run's last collect: the arrays themselves go, and this stage trains no more
      if (handOver) handedOver = true;
      const state = stage!.states(handOver);
      return { state, transfer: state.flatMap(movableBuffers) };
    },
  });
}
