// A stage process connects to its downstream neighbour within the timeout its coordinator gives
// in the init message (the neighbour may be busy building its own layers), and reports a
// neighbour it cannot reach to the coordinator, naming the address and that timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WIRE_VERSION } from '../../src/pipeline/runtime/frames.js';
import { startLocalStages } from '../../src/pipeline/runtime/local_stages.js';
import { receiveMessage, sendMessage, stageDealer } from '../util/stage_peer.js';

test("a downstream neighbour that cannot be reached fails the stage's init within the coordinator's timeout, naming it", async () => {
  const stages = await startLocalStages(1);
  const dealer = stageDealer(stages, 0, 20_000);
  try {
    const send = (m: { type: string } & Record<string, unknown>) => sendMessage(dealer, m);
    await send({ type: 'hello', role: 'coordinator', token: stages.token, version: WIRE_VERSION });
    assert.equal((await receiveMessage(dealer)).type, 'welcome');
    // nothing listens on port 1; the default timeout would be 5 s
    await send({ type: 'init', program: 'al', init: { stage: 0, stages: 2, threads: 1, timeOrigin: 0 }, downstream: '127.0.0.1:1', downstreamKey: stages.keys!.publicKey, capacity: 2, connectTimeoutMs: 300 });
    const report = (await receiveMessage(dealer)) as { type: string; message?: string };
    assert.equal(report.type, 'error');
    // the message states the timeout used: the coordinator's, not the default 5 s
    assert.match(report.message!, /^cannot reach a stage process at 127\.0\.0\.1:1 within 0\.3 s/);
  } finally {
    dealer.close();
    await stages.stop();
  }
});
