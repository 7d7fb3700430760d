// A stage of pipelined BP (GPipe or naive) in a worker thread: a BpStage wired to its ports.
// Forward messages come from upstream (stage 0: the coordinator) and go downstream; the last stage
// starts the backward pass, and gradients go back upstream stage by stage.
//   gpipe: the last stage waits for all M micro-batches, then runs their backward in reverse
//          order; each stage updates once it has back-propagated all M (the flush).
//   naive: one batch at a time per message, each stage updates as soon as its backward is done.
import { buildModel } from '../../models/index.js';
import { createOptimizer } from '../../optim/factory.js';
import { scheduledLr } from '../../optim/schedule.js';
import { Rng } from '../../tensor/rng.js';
import { Tensor } from '../../tensor/tensor.js';
import { BpStage } from './bp_stage.js';
import type { BackwardMessage, BpDone, BpStageInit, BpStageState, ForwardMessage } from './bp_messages.js';
import { toWire, traceInterval, transferables, type TraceInterval } from '../runtime/messages.js';
import { loadNamedTensors, moduleTensors } from '../runtime/state.js';
import { postDownstream, postUpstream, report, runStage } from '../runtime/stage_runtime.js';

let init: BpStageInit;
let stage: BpStage;
let epoch = -1;
/** What a stage has done so far with each batch in flight (its micro-batch count comes with its forward). */
const progress = new Map<number, { micros: number; forwards: number; backwards: number; loss: number; correct: number; staleness: number; intervals: TraceInterval[] }>();

function entry(index: number): NonNullable<ReturnType<typeof progress.get>> {
  let e = progress.get(index);
  if (!e) progress.set(index, (e = { micros: 0, forwards: 0, backwards: 0, loss: 0, correct: 0, staleness: 0, intervals: [] }));
  return e;
}

/** Runs fn and books it as a busy interval of this stage. */
function timed<T>(index: number, kind: TraceInterval['kind'], fn: () => T): T {
  const begin = performance.now();
  const out = fn();
  entry(index).intervals.push(traceInterval(init, index, kind, begin, performance.now()));
  return out;
}

function onForward(m: ForwardMessage): void {
  if (m.epoch !== epoch) {
    stage.optimizer.lr = scheduledLr(init.optimizer.lr, m.epoch, m.epochs, init.milestones);
    epoch = m.epoch;
  }
  const x = new Tensor(m.s.data, m.s.shape);
  const result = timed(m.index, 'forward', () => stage.forward(m.index, m.micro, x, m.labels, m.share));
  const e = entry(m.index);
  e.micros = m.micros;
  e.forwards++;
  if (!stage.last) {
    // a copy moves on: this stage's graph still needs its output (and the activations saved with it)
    const next: ForwardMessage = { ...m, s: { data: result.output!.data.slice(), shape: [...result.output!.shape] } };
    postDownstream(next, transferables(next.s, m.labels));
    return;
  }
  e.loss += result.loss! * m.share;
  e.correct += result.correct!;
  // GPipe: backward only once every micro-batch has been forwarded, last micro-batch first
  if (e.forwards === m.micros) {
    for (let micro = m.micros - 1; micro >= 0; micro--) backward(m.index, micro, null);
  }
}

function backward(index: number, micro: number, grad: Float32Array | null): void {
  const before = stage.staleness;
  const gradInput = timed(index, 'backward', () => stage.backward(index, micro, grad));
  const e = entry(index);
  e.staleness += stage.staleness - before;
  if (gradInput) {
    const message: BackwardMessage = { type: 'backward', index, micro, grad: toWire(gradInput, [gradInput.length]) };
    postUpstream(message, transferables(message.grad));
  }
  e.backwards++;
  if (e.backwards === e.micros) {
    timed(index, 'update', () => stage.update());
    progress.delete(index);
    const done: BpDone = {
      type: 'done', stage: init.stage, index, staleness: e.staleness, intervals: e.intervals,
      ...(stage.last ? { loss: e.loss, correct: e.correct } : {}),
    };
    report(done as unknown as Record<string, unknown> & { type: string });
  }
}

runStage<BpStageInit>({
  init(message) {
    init = message;
    const model = buildModel(message.model, { inputShape: message.inputShape, classes: message.classes, rng: new Rng(0) });
    const modules = message.modules.map((i) => model.layers[i]!);
    loadNamedTensors(moduleTensors(modules, message.modules, false), message.tensors, `stage ${message.stage + 1}`);
    const optimizer = createOptimizer(modules.flatMap((m) => m.parameters()), message.optimizer);
    optimizer.loadState(message.optimizerState);
    stage = new BpStage(modules, optimizer, message.stage === 0, message.stage === message.stages - 1);
  },
  message(m) {
    if (m.type === 'forward') {
      onForward(m as ForwardMessage);
    } else if (m.type === 'backward') {
      const b = m as BackwardMessage;
      backward(b.index, b.micro, b.grad.data);
    }
  },
  state: (): BpStageState => ({
    tensors: moduleTensors(stage.modules, init.modules, true),
    optimizer: stage.optimizer.state(),
  }),
});

