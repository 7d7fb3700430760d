// A stage of pipelined AL on any transport: an ALStage wired to the endpoints of a StageRuntime.
// A worker thread (al_worker.ts) and a stage process (runtime/stage_server.ts) both run this.
//
//   coordinator ──▶ stage 0 ──▶ stage 1 ──▶ ... (batches: (s, t) and the labels)
//
// Flow control is by credits: a stage starts a batch only while its downstream queue has a free
// slot, and gives its upstream a credit back whenever it takes a batch out of its own queue, so
// every queue holds at most its capacity and memory stays flat however long the run. Credits are
// the only messages that travel upstream, and they carry no data: AL needs no backward messages.
import { Tensor } from '../../tensor/tensor.js';
import { ALStage, buildStageNet, loadLayerState, movableBuffers } from './al_stage.js';
import { AL_CHANNELS, type ALReport, type ALStageInit, type CreditMessage } from './al_messages.js';
import { toWire, traceInterval, transferables, type BatchMessage } from '../runtime/messages.js';
import type { StageRuntime } from '../runtime/stage_runtime.js';

export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

export function runALStage(runtime: StageRuntime): void {
  const { downstream } = runtime.links;
  const inbox: BatchMessage[] = [];
  let credits = runtime.links.capacity;
  let stage: ALStage | null = null;
  let init: ALStageInit | null = null;
  let pumping = false;
  /** the layers' arrays went to the coordinator with the run's last collect */
  let handedOver = false;

  function run(batch: BatchMessage): void {
    if (handedOver) throw new Error(`stage ${init!.stage + 1}: batch ${batch.index} came after the run's last collect took this stage's layers`);
    const begin = performance.now();
    if (init!.fault?.batch === batch.index) {
      if (init!.fault.kind === 'exit') process.exit(3);
      throw new InjectedFault(`fault injected at batch ${batch.index}`);
    }
    const s = new Tensor(batch.s.data, batch.s.shape);
    const t = batch.t ? new Tensor(batch.t.data, batch.t.shape) : null;
    const out = stage!.step(s, t, batch.labels ?? null, batch.epoch, batch.epochs);
    runtime.report<ALReport>({
      type: 'done', stage: init!.stage, index: batch.index, losses: out.losses,
      interval: traceInterval(init!, batch.index, 'step', begin, performance.now()),
    });
    if (downstream) {
      const next: BatchMessage = {
        type: 'batch', index: batch.index, epoch: batch.epoch, epochs: batch.epochs,
        // s leaves in NHWC, the layout of the wire (a blocked s is reordered: an exact copy)
        s: toWire(out.s.toLayout('nhwc').data, out.s.shape), t: toWire(out.t.data, out.t.shape),
        ...(batch.labels ? { labels: batch.labels } : {}),
      };
      credits--;
      downstream.post(next, transferables(next.s, next.t, next.labels));
    }
  }

  /** Runs queued batches while downstream has room; yields between batches so credits get in. */
  function pump(): void {
    if (pumping || stage === null || runtime.isOver()) return;
    if (inbox.length === 0 || (downstream !== null && credits <= 0)) return;
    pumping = true;
    const batch = inbox.shift()!;
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

  runtime.run<ALStageInit, BatchMessage, CreditMessage>({
    channels: AL_CHANNELS,
    async init(message) {
      const { layers, classes } = await buildStageNet(message.blueprint, message.layers);
      message.state.forEach((state, i) => loadLayerState(layers[i]!, state, true));
      init = message;
      stage = new ALStage(layers, classes);
      pump();
    },
    message(m) {
      if (m.type === 'batch') inbox.push(m);
      else credits++;
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
