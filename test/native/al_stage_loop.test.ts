// An AL stage driven message by message, in this thread, through the endpoints a transport would
// give it: the orders that real runs produce only now and then are made here on purpose.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAssociatedNet, type ALNetSpec } from '../../src/al/decompositions.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { ALStage, layerState } from '../../src/pipeline/al/al_stage.js';
import { runALStage } from '../../src/pipeline/al/al_stage_loop.js';
import { toWire, type ALNetBlueprint, type BatchMessage } from '../../src/pipeline/runtime/messages.js';
import { StageRuntime } from '../../src/pipeline/runtime/stage_runtime.js';
import { PushedEndpoint } from '../../src/pipeline/runtime/transport.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** A message as an endpoint delivers it: the stage parses it (runtime/parse.ts). */
const message = (m: { type: string } & Record<string, unknown>): { type: string } => m;

const blueprint: ALNetBlueprint = { model: 'mlp', inputShape: [8, 8, 1], classes: 10, layers: 2, tWidth: 16, lr: 1e-3 };

test('a mark that reaches the last stage after the run\'s last collect took its layers is dropped, not answered with an error', async () => {
  setBackend(nativeBackend);
  const rng = new Rng(3);
  const net = buildAssociatedNet({ ...blueprint, rng } as ALNetSpec);
  // the first layer stays here and makes the batches the second stage (the one under test) gets
  const first = new ALStage([net.layers[0]!], blueprint.classes);
  const batch = (index: number): BatchMessage => {
    const x = new Float32Array(4 * 64);
    rng.fillNormal(x, 1);
    const labels = Int32Array.from({ length: 4 }, () => rng.int(10));
    const out = first.step(new Tensor(x, [4, 8, 8, 1]), null, labels, 0, 1);
    return { type: 'batch', index, epoch: 0, epochs: 1, s: toWire(out.s.data, out.s.shape), t: toWire(out.t.data, out.t.shape), labels };
  };

  const reports: { type: string; index?: number; message?: string }[] = [];
  const coordinator = new PushedEndpoint((m) => reports.push(m as (typeof reports)[number]));
  const upstream = new PushedEndpoint(() => {});
  runALStage(new StageRuntime({ coordinator, upstream, downstream: null, capacity: 2 }));
  const until = async (what: string, done: () => boolean): Promise<void> => {
    for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setImmediate(r));
    assert.ok(done(), `${what}; reports: ${JSON.stringify(reports.map((r) => [r.type, r.index ?? r.message]))}`);
  };
  const reported = (type: string, index?: number): boolean => reports.some((r) => r.type === type && (index === undefined || r.index === index));

  coordinator.deliver(message({
    type: 'init', program: 'al',
    init: { stage: 1, stages: 2, threads: 1, timeOrigin: performance.timeOrigin, blueprint, layers: [1], state: [layerState(net.layers[1]!)] },
  }));
  await until('the stage is ready', () => reported('ready'));

  // a mark the coordinator still wants is answered with a snapshot
  upstream.deliver(batch(0));
  upstream.deliver(message({ type: 'mark', index: 0 }));
  await until('batch 0 done and its snapshot sent', () => reported('done', 0) && reported('snapshot', 0));

  // a stop right after batch 1: the collect lets go of mark 1 and takes the layers, and only
  // then does mark 1 come from the stage upstream (it travels on another channel)
  coordinator.deliver(message({ type: 'resume', index: 0 }));
  upstream.deliver(batch(1));
  await until('batch 1 done', () => reported('done', 1));
  coordinator.deliver(message({ type: 'resume', index: 1 }));
  coordinator.deliver(message({ type: 'collect', request: 1, handOver: true }));
  await until('the state handed over', () => reported('state'));
  upstream.deliver(message({ type: 'mark', index: 1 }));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(reports.filter((r) => r.type === 'error').map((r) => r.message), []);
  assert.equal(reported('snapshot', 1), false, 'no snapshot of a mark let go');
  coordinator.deliver({ type: 'stop' });
});
