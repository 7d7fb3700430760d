// A coordinator and a stage process that do not fit each other fail at once with an error naming
// the peer, never with a connect timeout or a hang: an al of another wire version on either side
// (a fake peer over the real transport, speaking version WIRE_VERSION + 1), and a stage whose
// layers do not take the state the coordinator ships. The stage logs it and stays usable.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Router } from 'zeromq';
import { buildAssociatedNet, type ALNetSpec } from '../../src/al/decompositions.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { ALPipeline } from '../../src/pipeline/al/al_pipeline.js';
import { WIRE_VERSION, encodeWire } from '../../src/pipeline/runtime/frames.js';
import { receiveMessage, sendMessage, stageDealer } from '../util/stage_peer.js';
import { startLocalStages } from '../../src/pipeline/runtime/local_stages.js';
import type { ALNetBlueprint } from '../../src/pipeline/runtime/messages.js';
import { Rng } from '../../src/tensor/rng.js';
import { until } from '../util/poll.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(1);
});

const mlp: ALNetBlueprint = { model: 'mlp', inputShape: [8, 8, 1], classes: 10, layers: 3, tWidth: 16, lr: 1e-3, milestones: [] };
const escaped = (s: string): string => s.replace(/[.[\]]/g, '\\$&');

/** A message as an al of the next wire version would frame it: the version byte is where every version keeps it. */
function nextVersion(message: { type: string } & Record<string, unknown>): Buffer[] {
  const frames = encodeWire(message).map((f) => Buffer.from(f));
  frames[0]![4] = WIRE_VERSION + 1;
  return frames;
}

test('a coordinator of another wire version is told so by the stage, which logs it and serves on', async () => {
  const stages = await startLocalStages(1);
  const dealer = stageDealer(stages);
  try {
    await dealer.send(nextVersion({ type: 'hello', role: 'coordinator', token: stages.token, version: WIRE_VERSION + 1 }));
    assert.deepEqual((await receiveMessage(dealer)), { type: 'rejected', reason: `wire version ${WIRE_VERSION + 1}, the stage speaks ${WIRE_VERSION}` });
    dealer.close();
    // still free for a coordinator of its own version
    const net = buildAssociatedNet({ ...mlp, rng: new Rng(1) } as ALNetSpec);
    const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0, 1, 2]], threads: 1, processes: stages.processes });
    await pipeline.close();
  } finally {
    dealer.close();
    await stages.stop();
  }
  const log = stages.stderr[0]!;
  assert.match(log, new RegExp(`rejected a peer speaking wire version ${WIRE_VERSION + 1}; this stage speaks version ${WIRE_VERSION} \\(run the same version of al on every host\\)`));
  assert.equal(stages.children[0]!.exitCode, 0, log);
});

test('a stage of another wire version: the coordinator fails at once, naming its address and both versions', async () => {
  // an --insecure stage of the next version (on loopback, no keys)
  const router = new Router({ linger: 0 });
  await router.bind('tcp://127.0.0.1:*');
  const address = router.lastEndpoint!.replace('tcp://', '');
  // answers whatever it is sent as an al of the next version answers a hello
  void (async () => {
    for await (const [id] of router) await router.send([id!, ...nextVersion({ type: 'welcome' })]);
  })().catch(() => {});
  try {
    const net = buildAssociatedNet({ ...mlp, rng: new Rng(1) } as ALNetSpec);
    const begin = performance.now();
    await assert.rejects(
      ALPipeline.start({ blueprint: mlp, net, stages: [[0, 1, 2]], threads: 1, processes: { addresses: [address], token: 't', connectTimeoutMs: 5000 } }),
      new RegExp(`^PipelineError: pipeline stage 1 \\(AL layers 1, 2, 3\\): the stage process at ${escaped(address)} speaks wire version ${WIRE_VERSION + 1}, this al speaks version ${WIRE_VERSION}: run the same version of al on every host$`),
    );
    assert.ok(performance.now() - begin < 2000, 'an answer, not the connect timeout');
  } finally {
    router.close();
  }
});

test('a stage that cannot take the shipped state fails the start naming stage, address and tensor; the stage ends the run cleanly', async () => {
  const stages = await startLocalStages(2);
  // the coordinator's net has t_i of width 16; the stages are told to build width 8
  const net = buildAssociatedNet({ ...mlp, rng: new Rng(1) } as ALNetSpec);
  const begin = performance.now();
  try {
    await assert.rejects(
      ALPipeline.start({ blueprint: { ...mlp, tWidth: 8 }, net, stages: [[0], [1, 2]], threads: 1, processes: stages.processes }),
      new RegExp(`^PipelineError: pipeline stage \\d \\(AL layers? [\\d, ]+\\): the stage process at 127\\.0\\.0\\.1:\\d+ reports StageConfigError: AL layer \\d: tensor '[a-z]\\.[\\w.]+' has \\d+ elements, expected \\d+$`),
    );
    assert.ok(performance.now() - begin < 10_000);
    // each stage process (serving one run) was told to end it before the start gave up
    const told = /run over: the coordinator stopped it; exiting/;
    await until(() => stages.stderr.every((log) => told.test(log)), 5000, () => stages.stderr.join('\n'));
  } finally {
    await stages.stop();
  }
  stages.children.forEach((child, k) => assert.equal(child.exitCode, 0, stages.stderr[k]));
});

test('a malformed hello is refused with the field at fault; an init naming an unknown program or lacking a field fails the run by name', async () => {
  const stages = await startLocalStages(1);
  const dealer = stageDealer(stages);
  const send = (m: { type: string } & Record<string, unknown>) => sendMessage(dealer, m);
  try {
    await send({ type: 'hello', role: 'coordinator', token: 42, version: WIRE_VERSION });
    assert.deepEqual((await receiveMessage(dealer)), { type: 'rejected', reason: 'hello to a stage process: \'hello\' message: expected string for token, got number 42' });
    await send({ type: 'hello', role: 'spectator', token: stages.token, version: WIRE_VERSION });
    assert.deepEqual((await receiveMessage(dealer)), { type: 'rejected', reason: "hello to a stage process: expected 'coordinator' or 'upstream' for role, got 'spectator'" });
    await send({ type: 'hello', role: 'coordinator', token: stages.token, version: WIRE_VERSION });
    assert.equal((await receiveMessage(dealer)).type, 'welcome');
    const base = { stage: 0, stages: 1, threads: 1, timeOrigin: 0 };
    await send({ type: 'init', program: 'rl', init: base, downstream: null, capacity: 2 });
    assert.deepEqual((await receiveMessage(dealer)), {
      type: 'error', stage: -1, name: 'Error', message: "the coordinator asks for stage program 'rl'; this stage runs al, bp",
    });
    await send({ type: 'init', program: 'al', init: { stage: 0, stages: 1, timeOrigin: 0 }, downstream: null, capacity: 2 });
    assert.deepEqual((await receiveMessage(dealer)), {
      type: 'error', stage: -1, name: 'MessageError', message: "coordinator to stage: 'init' message's init: expected number for threads, got undefined",
    });
  } finally {
    dealer.close();
    await stages.stop();
  }
});
