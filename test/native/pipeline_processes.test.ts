// Pipelined AL with its stages in separate OS processes over ZeroMQ computes exactly what
// sequential AL computes (same seed, one compute thread per stage): every weight, buffer and
// optimizer moment bit-identical. A stage process killed mid-run is noticed, named with its
// address, within a bounded time; a stage address where nothing listens fails within the connect
// timeout, naming HOST:PORT. Random and truncated frames sent to a stage process only ever give
// logged errors (and an error report to an authenticated coordinator); the process lives on.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALLearner } from '../../src/al/al_learner.js';
import type { AssociatedNet } from '../../src/al/associated_net.js';
import { buildAssociatedNet, type ALNetSpec } from '../../src/al/decompositions.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import type { Dataset, Split } from '../../src/data/dataset.js';
import { ALPipeline, PipelineError } from '../../src/pipeline/al/al_pipeline.js';
import { layerState } from '../../src/pipeline/al/al_stage.js';
import { startLocalStages } from '../../src/pipeline/runtime/local_stages.js';
import type { ALNetBlueprint } from '../../src/pipeline/runtime/messages.js';
import { runPipelinedEpochs } from '../../src/pipeline/runtime/run_pipelined.js';
import { Rng } from '../../src/tensor/rng.js';
import { runEpochs } from '../../src/train/loop.js';
import { WIRE_VERSION, encodeWire } from '../../src/pipeline/runtime/frames.js';
import { receiveMessage, sendMessage, stageDealer } from '../util/stage_peer.js';
import { until } from '../util/poll.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(1);
});

function syntheticSplit(n: number, seed: number): Split {
  const rng = new Rng(seed);
  return {
    images: Float32Array.from({ length: n * 64 }, () => rng.next()),
    labels: Int32Array.from({ length: n }, () => rng.int(10)),
    n, shape: [8, 8, 1], classes: 10,
  };
}

const data: Dataset = { train: syntheticSplit(100, 1), test: syntheticSplit(20, 2) };
const mlp: ALNetBlueprint = { model: 'mlp', inputShape: [8, 8, 1], classes: 10, layers: 3, tWidth: 16, lr: 1e-3, milestones: [{ at: 0.5, factor: 0.1 }] };

/** Every tensor and optimizer buffer of the net, as raw bits, in a fixed order. */
function bits(net: AssociatedNet): [string, Uint32Array][] {
  return net.layers.flatMap((layer) => {
    const state = layerState(layer);
    const moments = [...Object.entries(state.optimizers.forward.buffers), ...Object.entries(state.optimizers.target.buffers).map(([k, v]) => [`target.${k}`, v] as const)]
      .flatMap(([k, list]) => list.map((b, i): [string, Float32Array] => [`${layer.index}.${k}.${i}`, b]));
    return [...state.tensors.map(([n, d]): [string, Float32Array] => [`${layer.index}.${n}`, d]), ...moments]
      .map(([n, d]): [string, Uint32Array] => [n, new Uint32Array(d.buffer, d.byteOffset, d.length)]);
  });
}

test('pipelined AL in 3 stage processes (MLP) ends bit-identical to sequential AL, across an lr milestone', async () => {
  const seqRng = new Rng(7);
  const seq = buildAssociatedNet({ ...mlp, rng: seqRng } as ALNetSpec);
  await runEpochs(new ALLearner(seq), data, { epochs: 2, batchSize: 16, rng: seqRng });

  const stages = await startLocalStages(3);
  const rng = new Rng(7);
  const net = buildAssociatedNet({ ...mlp, rng } as ALNetSpec);
  try {
    const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0], [1], [2]], threads: 1, trace: true, processes: stages.processes });
    try {
      const history = await runPipelinedEpochs(pipeline, data, { epochs: 2, batchSize: 16, rng, testAccuracy: () => 0, lr: () => 0 });
      assert.equal(history.length, 2);
      assert.equal(pipeline.batchesDone, 14);
      assert.ok(pipeline.intervals.length === 3 * 14, 'every stage reported every batch');
    } finally {
      await pipeline.close();
    }
  } finally {
    await stages.stop();
  }
  const a = bits(seq), b = bits(net);
  assert.deepEqual(a.map(([n]) => n), b.map(([n]) => n));
  a.forEach(([name, x], i) => assert.deepEqual(x, b[i]![1], name));
  const init = bits(buildAssociatedNet({ ...mlp, rng: new Rng(7) } as ALNetSpec));
  assert.notDeepEqual(init[0]![1], b[0]![1], 'the weights moved: it really trained');
  // each stage process served its one run and exited cleanly
  assert.deepEqual(stages.children.map((c) => c.exitCode), [0, 0, 0], stages.stderr.join('\n'));
});

test('a stage process killed mid-run is noticed within a bounded time, named with its address; no hang', async () => {
  const stages = await startLocalStages(2);
  const rng = new Rng(1);
  const net = buildAssociatedNet({ ...mlp, rng } as ALNetSpec);
  let killedAt = 0;
  try {
    const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0], [1, 2]], threads: 1, processes: stages.processes });
    try {
      await assert.rejects(
        runPipelinedEpochs(pipeline, data, {
          epochs: 50, batchSize: 16, rng, testAccuracy: () => 0, lr: () => 0,
          onBatch: (p) => {
            if (p.batch === 3 && killedAt === 0) {
              killedAt = performance.now();
              stages.children[1]!.kill('SIGKILL');
            }
          },
        }),
        (e: unknown) => e instanceof PipelineError && e.stage === 1 &&
          e.message.includes(`pipeline stage 2 (AL layers 2, 3): lost the connection to the stage process at ${stages.addresses[1]}`),
      );
      assert.ok(killedAt > 0);
      assert.ok(performance.now() - killedAt < 5000, `noticed after ${Math.round(performance.now() - killedAt)} ms`);
    } finally {
      await pipeline.close();
    }
  } finally {
    await stages.stop();
  }
});

test('a stage address where nothing listens fails within the connect timeout, naming HOST:PORT', async () => {
  const net = buildAssociatedNet({ ...mlp, rng: new Rng(1) } as ALNetSpec);
  const begin = performance.now();
  await assert.rejects(
    ALPipeline.start({ blueprint: mlp, net, stages: [[0, 1, 2]], threads: 1, processes: { addresses: ['127.0.0.1:9'], token: 'x', connectTimeoutMs: 1000 } }),
    /pipeline stage 1 \(AL layers 1, 2, 3\): cannot reach a stage process at 127\.0\.0\.1:9 within 1 s/,
  );
  assert.ok(performance.now() - begin < 3000);
});

test('one stage reached and one unreachable: the start fails naming the unreachable one, and releases the reached one', async () => {
  const stages = await startLocalStages(1);
  try {
    const net = buildAssociatedNet({ ...mlp, rng: new Rng(1) } as ALNetSpec);
    await assert.rejects(
      ALPipeline.start({ blueprint: mlp, net, stages: [[0], [1, 2]], threads: 1, processes: { ...stages.processes, addresses: [stages.addresses[0]!, '127.0.0.1:9'], curve: { keys: stages.keys!, stageKeys: [stages.keys!.publicKey, stages.keys!.publicKey] }, connectTimeoutMs: 1000 } }),
      /pipeline stage 2 \(AL layers 2, 3\): cannot reach a stage process at 127\.0\.0\.1:9 within 1 s/,
    );
    // the stage that answered was told the run is off (before, its connection stayed open: the
    // stage stayed busy, and al train never exited)
    await until(() => /run over: the coordinator stopped it; exiting/.test(stages.stderr[0]!), 5000, () => `the reached stage was not released: ${stages.stderr[0]}`);
  } finally {
    await stages.stop();
  }
  assert.equal(stages.children[0]!.exitCode, 0, stages.stderr[0]);
});

test('a coordinator with the wrong token is refused with a clear error, and the stage logs it and keeps serving', async () => {
  const stages = await startLocalStages(1);
  try {
    const net = buildAssociatedNet({ ...mlp, rng: new Rng(1) } as ALNetSpec);
    await assert.rejects(
      ALPipeline.start({ blueprint: mlp, net, stages: [[0, 1, 2]], threads: 1, processes: { ...stages.processes, token: 'not-the-token' } }),
      new RegExp(`stage process at ${stages.addresses[0]!.replace(/\./g, '\\.')} refused us: wrong token`),
    );
    const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0, 1, 2]], threads: 1, processes: stages.processes });
    await pipeline.close();
  } finally {
    await stages.stop();
  }
  assert.match(stages.stderr[0]!, /rejected a coordinator: wrong token/);
  assert.equal(stages.children[0]!.exitCode, 0);
});

test('random and truncated frames sent to a stage process give clean logged errors, never a crash', async () => {
  const stages = await startLocalStages(1);
  const dealer = stageDealer(stages);
  try {
    const rng = new Rng(3);
    const bytes = (n: number) => Buffer.from(Uint8Array.from({ length: n }, () => rng.int(256)));
    const valid = [
      encodeWire({ type: 'hello', role: 'coordinator', token: stages.token, version: WIRE_VERSION }),
      encodeWire({ type: 'batch', index: 0, epoch: 0, epochs: 1, s: { data: new Float32Array(6), shape: [2, 3] }, labels: Int32Array.from([1, 2]) } as never),
    ];
    // before any hello: random frames, every truncation of valid messages, a batch from a stranger
    for (let i = 0; i < 200; i++) await dealer.send(Array.from({ length: 1 + rng.int(4) }, () => bytes(rng.int(48))));
    for (const frames of valid) {
      for (let f = 0; f < frames.length; f++) {
        for (let cut = 0; cut < frames[f]!.byteLength; cut += 3) await dealer.send(frames.map((x, i) => Buffer.from(i === f ? x.subarray(0, cut) : x)));
      }
    }
    await dealer.send(valid[1]!.map((x) => Buffer.from(x)));
    await sendMessage(dealer, { type: 'hello', role: 'coordinator', token: 'guess', version: WIRE_VERSION });
    assert.deepEqual((await receiveMessage(dealer)), { type: 'rejected', reason: 'wrong token' });
    // the stage still serves: the right token is welcomed
    await dealer.send(valid[0]!.map((x) => Buffer.from(x)));
    assert.equal((await receiveMessage(dealer)).type, 'welcome');
    // garbage from the authenticated coordinator fails the run with an error report, not a crash
    await dealer.send([bytes(3)]);
    const report = (await receiveMessage(dealer)) as { type: string; name?: string; message?: string };
    assert.equal(report.type, 'error');
    assert.equal(report.name, 'FrameError');
    assert.match(report.message!, /not a pipeline message \(bad magic number\)/);
    await sendMessage(dealer, { type: 'stop' });
    assert.equal((await receiveMessage(dealer)).type, 'stopped');
  } finally {
    dealer.close();
    await stages.stop();
  }
  const log = stages.stderr[0]!;
  assert.equal(stages.children[0]!.exitCode, 0, log);
  // hundreds of bad messages from one peer: each kind logged once, the rest counted, not logged
  const malformed = (log.match(/malformed message from an unknown peer/g) ?? []).length;
  assert.ok(malformed >= 1 && malformed <= 20, `${malformed} lines: ${log.slice(0, 500)}`);
  assert.match(log, /and \d+ refusals not logged since the previous line/);
  assert.match(log, /ignored a 'batch' message from a peer that has not presented the run's token/);
  assert.match(log, /rejected a coordinator: wrong token/);
  assert.doesNotMatch(log, /\n\s+at /, 'no stack trace: every error was handled');
});

test('a stage process whose coordinator goes away ends that run (with --once, exits) instead of staying busy', async () => {
  const stages = await startLocalStages(1);
  const dealer = stageDealer(stages);
  try {
    await sendMessage(dealer, { type: 'hello', role: 'coordinator', token: stages.token, version: WIRE_VERSION });
    assert.equal((await receiveMessage(dealer)).type, 'welcome');
    dealer.close();
    const child = stages.children[0]!;
    const code = await new Promise<number | null>((resolve, reject) => {
      // the stage notices at once on loopback, or within the heartbeat timeout when its probe waits on a closing pipe
      const timer = setTimeout(() => reject(new Error(`still running: ${stages.stderr[0]}`)), 10_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0);
    assert.match(stages.stderr[0]!, /lost the coordinator; the run is over/);
  } finally {
    dealer.close();
    await stages.stop();
  }
});
