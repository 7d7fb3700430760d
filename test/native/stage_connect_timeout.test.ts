// A stage process connects to its downstream neighbour within the timeout its coordinator gives
// in the init message (the neighbour may be busy building its own layers), and reports a
// neighbour it cannot reach to the coordinator, naming the address and that timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dealer } from 'zeromq';
import { WIRE_VERSION, decode, encode } from '../../src/pipeline/runtime/frames.js';
import { startLocalStages } from '../../src/pipeline/runtime/local_stages.js';

test("a downstream neighbour that cannot be reached fails the stage's init within the coordinator's timeout, naming it", async () => {
  const stages = await startLocalStages(1);
  const dealer = new Dealer({ linger: 0, receiveTimeout: 20_000 });
  try {
    dealer.connect(`tcp://${stages.addresses[0]}`);
    const send = (m: { type: string } & Record<string, unknown>) => dealer.send(encode(m).map((x) => Buffer.from(x)));
    await send({ type: 'hello', role: 'coordinator', token: stages.token, version: WIRE_VERSION });
    assert.equal(decode(await dealer.receive()).type, 'welcome');
    // nothing listens on port 1; the default timeout would be 5 s
    await send({ type: 'init', program: 'al', init: { stage: 0, stages: 2, threads: 1, timeOrigin: 0 }, downstream: '127.0.0.1:1', capacity: 2, connectTimeoutMs: 300 });
    const report = decode(await dealer.receive()) as { type: string; message?: string };
    assert.equal(report.type, 'error');
    // the message states the timeout used: the coordinator's, not the default 5 s
    assert.match(report.message!, /^cannot reach a stage process at 127\.0\.0\.1:1 within 0\.3 s/);
  } finally {
    dealer.close();
    await stages.stop();
  }
});
