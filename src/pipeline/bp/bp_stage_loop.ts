// A stage of pipelined BP (GPipe or naive) on any transport: a BpStage wired to the endpoints of a
// StageRuntime. A worker thread (bp_worker.ts) and a stage process (runtime/stage_server.ts) both
// run this. Forward messages come from upstream (stage 0: the coordinator) and go downstream; the
// last stage starts the backward pass, and gradients go back upstream stage by stage.
//   gpipe: the last stage waits for all M micro-batches, then runs their backward in reverse
//          order; each stage updates once it has back-propagated all M (the flush).
//   naive: one batch at a time per message, each stage updates as soon as its backward is done.
import { buildModel } from '../../models/index.js';
import { createOptimizer } from '../../optim/factory.js';
import { scheduledLr } from '../../optim/schedule.js';
import { Rng } from '../../tensor/rng.js';
import { Tensor } from '../../tensor/tensor.js';
import { BpStage } from './bp_stage.js';
import { BP_CHANNELS, type BackwardMessage, type BpDone, type BpStageInit, type BpStageState, type ForwardMessage } from './bp_messages.js';
import { toWire, traceInterval, transferables, type TraceInterval } from '../runtime/messages.js';
import { loadNamedTensors, moduleTensors } from '../runtime/state.js';
import type { StageRuntime } from '../runtime/stage_runtime.js';

/** What a stage has done so far with one batch in flight (its micro-batch count comes with its forward). */
interface Progress {
  micros: number;
  forwards: number;
  backwards: number;
  loss: number;
  correct: number;
  staleness: number;
  intervals: TraceInterval[];
}

/** Builds a stage's modules and optimizer from its init: the coordinator's weights and optimizer slice. */
function buildBpStage(init: BpStageInit): BpStage {
  const model = buildModel(init.model, { inputShape: init.inputShape, classes: init.classes, rng: new Rng(0), hidden: init.hidden });
  const modules = init.modules.map((i) => model.layers[i]!);
  loadNamedTensors(moduleTensors(modules, init.modules, false), init.tensors, `stage ${init.stage + 1}`);
  const optimizer = createOptimizer(modules.flatMap((m) => m.parameters()), init.optimizer);
  optimizer.loadState(init.optimizerState);
  return new BpStage(modules, optimizer, init.stage === 0, init.stage === init.stages - 1);
}

/** One stage's batches in flight: forward, backward and update, reported to the coordinator when a batch is done. */
class BpStageLoop {
  private readonly progress = new Map<number, Progress>();
  private epoch = -1;

  constructor(private readonly runtime: StageRuntime, private readonly init: BpStageInit, readonly stage: BpStage) {}

  private entry(index: number): Progress {
    let e = this.progress.get(index);
    if (!e) this.progress.set(index, (e = { micros: 0, forwards: 0, backwards: 0, loss: 0, correct: 0, staleness: 0, intervals: [] }));
    return e;
  }

  /** Runs fn and books it as a busy interval of this stage. */
  private timed<T>(index: number, kind: TraceInterval['kind'], fn: () => T): T {
    const begin = performance.now();
    const out = fn();
    this.entry(index).intervals.push(traceInterval(this.init, index, kind, begin, performance.now()));
    return out;
  }

  forward(m: ForwardMessage): void {
    const { stage } = this;
    if (m.epoch !== this.epoch) {
      stage.optimizer.lr = scheduledLr(this.init.optimizer.lr, m.epoch, m.epochs, this.init.milestones);
      this.epoch = m.epoch;
    }
    const x = new Tensor(m.s.data, m.s.shape);
    const result = this.timed(m.index, 'forward', () => stage.forward(m.index, m.micro, x, m.labels, m.share));
    const e = this.entry(m.index);
    e.micros = m.micros;
    e.forwards++;
    if (!stage.last) {
      // a copy moves on: this stage's graph still needs its output (and the activations saved with it)
      const next: ForwardMessage = { ...m, s: { data: result.output!.data.slice(), shape: [...result.output!.shape] } };
      this.runtime.postDownstream(next, transferables(next.s, m.labels));
      return;
    }
    e.loss += result.loss! * m.share;
    e.correct += result.correct!;
    // GPipe: backward only once every micro-batch has been forwarded, last micro-batch first
    if (e.forwards === m.micros) {
      for (let micro = m.micros - 1; micro >= 0; micro--) this.backward(m.index, micro, null);
    }
  }

  backward(index: number, micro: number, grad: Float32Array | null): void {
    const { stage } = this;
    const before = stage.staleness;
    const gradInput = this.timed(index, 'backward', () => stage.backward(index, micro, grad));
    const e = this.entry(index);
    e.staleness += stage.staleness - before;
    if (gradInput) {
      const message: BackwardMessage = { type: 'backward', index, micro, grad: toWire(gradInput, [gradInput.length]) };
      this.runtime.postUpstream(message, transferables(message.grad));
    }
    e.backwards++;
    if (e.backwards < e.micros) return;
    this.timed(index, 'update', () => stage.update());
    this.progress.delete(index);
    const done: BpDone = {
      type: 'done', stage: this.init.stage, index, staleness: e.staleness, intervals: e.intervals,
      ...(stage.last ? { loss: e.loss, correct: e.correct } : {}),
    };
    this.runtime.report(done);
  }

  state(): BpStageState {
    return { tensors: moduleTensors(this.stage.modules, this.init.modules, true), optimizer: this.stage.optimizer.state() };
  }
}

/** Runs a BP stage on `runtime`: built at its init, then driven by forward and backward messages. */
export function runBpStage(runtime: StageRuntime): void {
  let loop: BpStageLoop | null = null;
  runtime.run<BpStageInit, ForwardMessage, BackwardMessage>({
    channels: BP_CHANNELS,
    init(init) {
      loop = new BpStageLoop(runtime, init, buildBpStage(init));
    },
    message(m) {
      if (m.type === 'forward') loop!.forward(m);
      else loop!.backward(m.index, m.micro, m.grad.data);
    },
    state: () => ({ state: loop!.state() }),
  });
}
