// Messages are checked once, where they arrive: parseMessage against a channel's declaration, and
// the StageRuntime, which parses what each endpoint delivers and turns a misfit into the stage's
// error report, naming the channel, the message type and the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AL_CHANNELS, AL_REPORTS } from '../../../../src/pipeline/al/al_messages.js';
import { BP_CHANNELS } from '../../../../src/pipeline/bp/bp_messages.js';
import { CONTROL, STAGE_REPORTS, parseHello, parseStageInit } from '../../../../src/pipeline/runtime/messages.js';
import { MessageError, parseMessage } from '../../../../src/pipeline/runtime/parse.js';
import { StageRuntime } from '../../../../src/pipeline/runtime/stage_runtime.js';
import { PushedEndpoint } from '../../../../src/pipeline/runtime/transport.js';

const fails = (fn: () => unknown, message: string): void =>
  assert.throws(fn, (e: unknown) => e instanceof MessageError && e.message === message);

const batch = { type: 'batch', index: 3, epoch: 0, epochs: 1, s: { data: new Float32Array(6), shape: [2, 3] } };

test('a message that fits its channel comes back as it is, typed', () => {
  assert.equal(parseMessage('upstream', AL_CHANNELS.inbound, batch), batch);
  const labelled = { ...batch, labels: Int32Array.of(1, 2), t: { data: new Float32Array(2), shape: [2, 1] } };
  assert.equal(parseMessage('upstream', AL_CHANNELS.inbound, labelled), labelled);
  const done = { type: 'done', stage: 1, index: 0, losses: [], interval: { stage: 1, batch: 0, kind: 'step', start: 0, end: 1 } };
  assert.equal(parseMessage('reports', { ...STAGE_REPORTS, ...AL_REPORTS }, done), done);
  assert.equal(parseMessage('control', CONTROL, { type: 'stop' }).type, 'stop');
});

test('a message that does not fit is a MessageError naming the channel, type and field', () => {
  fails(() => parseMessage('upstream', AL_CHANNELS.inbound, null), 'upstream: expected a message, got null');
  fails(() => parseMessage('upstream', AL_CHANNELS.inbound, { index: 1 }), 'upstream: expected a string for type, got undefined');
  fails(() => parseMessage('upstream', AL_CHANNELS.inbound, { type: 'forward' }), "upstream: expected a message of type 'batch', 'mark', got 'forward'");
  fails(() => parseMessage('upstream', AL_CHANNELS.inbound, { type: 'toString' }), "upstream: expected a message of type 'batch', 'mark', got 'toString'");
  fails(() => parseMessage('upstream', AL_CHANNELS.inbound, { ...batch, index: '3' }), "upstream: 'batch' message: expected number for index, got '3'");
  fails(() => parseMessage('upstream', AL_CHANNELS.inbound, { ...batch, s: { data: new Float32Array(5), shape: [2, 3] } }),
    "upstream: 'batch' message: expected tensor for s, got a tensor of 5 elements, shape [2,3]");
  fails(() => parseMessage('upstream', AL_CHANNELS.inbound, { ...batch, labels: [1, 2] }), "upstream: 'batch' message: expected i32 for labels, got an array of 2");
  fails(() => parseMessage('downstream', BP_CHANNELS.feedback, { type: 'backward', index: 0, micro: 0 }),
    "downstream: 'backward' message: expected tensor for grad, got undefined");
  fails(() => parseMessage('control', CONTROL, { type: 'collect' }), "control: 'collect' message: expected number for request, got undefined");
});

test('hello and init: the handshake and a stage process start checked field by field', () => {
  fails(() => parseHello({ type: 'hello', role: 'upstream', token: 't' }), "hello to a stage process: 'hello' message: expected number for version, got undefined");
  fails(() => parseHello({ type: 'hello', role: 'admin', token: 't', version: 1 }), "hello to a stage process: expected 'coordinator' or 'upstream' for role, got 'admin'");
  assert.equal(parseHello({ type: 'hello', role: 'upstream', token: 't', version: 1 }).role, 'upstream');
  const init = { type: 'init', program: 'bp', init: { stage: 1, stages: 2, threads: 1, timeOrigin: 5 }, downstream: null, capacity: 1 };
  assert.equal(parseStageInit(init), init);
  fails(() => parseStageInit({ type: 'stop' }), "coordinator to stage: expected an 'init' message first, got 'stop'");
  fails(() => parseStageInit({ ...init, downstream: 7 }), "coordinator to stage: 'init' message: expected string|null for downstream, got number 7");
  fails(() => parseStageInit({ ...init, init: { stage: 1, stages: 2, threads: 1 } }), "coordinator to stage: 'init' message's init: expected number for timeOrigin, got undefined");
});

test('StageRuntime: a malformed message from a neighbour becomes the stage\'s error report; good ones reach the handler', () => {
  const reports: unknown[] = [];
  const coordinator = new PushedEndpoint((m) => reports.push(m));
  const upstream = new PushedEndpoint(() => {});
  const received: string[] = [];
  const runtime = new StageRuntime({ coordinator, upstream, downstream: null, capacity: 2 });
  runtime.run({ channels: AL_CHANNELS, init: () => {}, message: (m) => received.push(m.type), state: () => ({ state: null }) });
  upstream.deliver(batch);
  assert.deepEqual(received, ['batch']);
  upstream.deliver({ type: 'credit' });
  assert.equal(reports.length, 1, 'a credit from upstream is not in the channel');
  assert.deepEqual(reports[0], {
    type: 'error', stage: -1, name: 'MessageError',
    message: "a stage from upstream: expected a message of type 'batch', 'mark', got 'credit'",
    stack: (reports[0] as { stack: string }).stack,
  });
  // the stage has failed: no more work reaches the handler, but a stop is still obeyed
  upstream.deliver(batch);
  assert.deepEqual(received, ['batch']);
  let closed = false;
  const runtime2 = new StageRuntime({ coordinator: new PushedEndpoint(() => {}, () => (closed = true)), upstream: null, downstream: null, capacity: 2 });
  runtime2.run({ channels: AL_CHANNELS, init: () => {}, message: () => {}, state: () => ({ state: null }) });
  runtime2.fail(new Error('boom'));
  (runtime2.links.coordinator as PushedEndpoint).deliver({ type: 'stop' });
  assert.ok(closed, 'the stop closed the coordinator endpoint');
});
