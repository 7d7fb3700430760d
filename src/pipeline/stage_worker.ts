// A pipeline stage in a worker thread: an ALStage wired to message ports.
//
//   coordinator ──parentPort──▶ stage k ──downstream port──▶ stage k+1 ──▶ ...
//
// Batches come in from upstream (the coordinator for stage 0, else the previous stage's port),
// results go downstream with their buffers transferred. Flow control is by credits: a stage may
// start a batch only while its downstream queue has a free slot, and gives its upstream a credit
// back whenever it takes a batch out of its own queue, so every queue holds at most its capacity
// and memory stays flat however long the run. Credits are the only messages that travel
// upstream, and they carry no data.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { setBackend } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { ALStage, buildStageLayers, loadLayerState } from './al_stage.js';
import { toWire, transferables, type BatchMessage, type FromStage, type StageInit, type ToStage } from './messages.js';

interface WorkerData {
  /** where this stage's batches come from: null for the coordinator's parentPort */
  upstream: MessagePort | null;
  /** where this stage's results go: null on the last stage */
  downstream: MessagePort | null;
  /** batches the downstream queue may hold */
  capacity: number;
}

export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

const coordinator = parentPort!;
const { upstream, downstream, capacity } = workerData as WorkerData;
const inbox: BatchMessage[] = [];
let credits = capacity;
let stage: ALStage | null = null;
let init: StageInit | null = null;
let pumping = false;

function send(message: FromStage, transfer: ArrayBuffer[] = []): void {
  coordinator.postMessage(message, transfer);
}

function fail(error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  send({ type: 'error', stage: init?.stage ?? -1, name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
  inbox.length = 0;
  stage = null;
}

async function start(message: StageInit): Promise<void> {
  const { nativeBackend } = await import('../backend/native_backend.js');
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(message.threads);
  const layers = buildStageLayers(message.blueprint, message.layers);
  message.state.forEach((state, i) => loadLayerState(layers[i]!, state));
  init = message;
  stage = new ALStage(layers, message.blueprint.classes);
  send({ type: 'ready', stage: message.stage });
  pump();
}

function process1(batch: BatchMessage): void {
  const begin = performance.now();
  if (init!.fault?.batch === batch.index) {
    if (init!.fault.kind === 'exit') process.exit(3);
    throw new InjectedFault(`fault injected at batch ${batch.index}`);
  }
  const s = new Tensor(batch.s.data, batch.s.shape);
  const t = batch.t ? new Tensor(batch.t.data, batch.t.shape) : null;
  const out = stage!.step(s, t, batch.labels ?? null, batch.epoch, batch.epochs);
  const end = performance.now();
  const origin = performance.timeOrigin - init!.timeOrigin;
  send({
    type: 'done', stage: init!.stage, index: batch.index, losses: out.losses,
    interval: { stage: init!.stage, batch: batch.index, kind: 'step', start: origin + begin, end: origin + end },
  });
  if (downstream) {
    const next: BatchMessage = {
      type: 'batch', index: batch.index, epoch: batch.epoch, epochs: batch.epochs,
      s: toWire(out.s.data, out.s.shape), t: toWire(out.t.data, out.t.shape),
    };
    credits--;
    downstream.postMessage(next, transferables(next.s, next.t));
  }
}

/** Runs queued batches while downstream has room; yields between batches so credits and control messages get in. */
function pump(): void {
  if (pumping || stage === null) return;
  if (inbox.length === 0 || (downstream !== null && credits <= 0)) return;
  pumping = true;
  const batch = inbox.shift()!;
  (upstream ?? coordinator).postMessage({ type: 'credit' });
  try {
    process1(batch);
  } catch (error) {
    fail(error);
  }
  pumping = false;
  setImmediate(pump);
}

function onUpstream(message: ToStage): void {
  if (message.type === 'batch') {
    inbox.push(message);
    pump();
  }
}

coordinator.on('message', (message: ToStage) => {
  switch (message.type) {
    case 'init':
      start(message.init).catch(fail);
      break;
    case 'batch':
      onUpstream(message);
      break;
    case 'collect':
      if (stage) send({ type: 'state', stage: init!.stage, request: message.request, layers: stage.states() });
      break;
    case 'stop':
      upstream?.close();
      downstream?.close();
      coordinator.close();
      break;
  }
});
upstream?.on('message', onUpstream);
downstream?.on('message', (message: { type: string }) => {
  if (message.type === 'credit') {
    credits++;
    pump();
  }
});
