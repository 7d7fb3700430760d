// The transport bench: its one-buffer packing for gRPC round-trips and rejects malformed input,
// and a small run between two processes measures ZeroMQ and gRPC (a devDependency, installed
// where tests run) with sane figures and prints them. Values only, no timing thresholds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { decode } from '../../../src/pipeline/runtime/frames.js';
import type { BatchMessage } from '../../../src/pipeline/runtime/messages.js';
import { batchFrames, pack, transportBench, transportRows, unpack } from '../../../src/bench/transport.js';

test('pack and unpack round-trip a batch message, which still decodes to the same tensors', () => {
  const frames = batchFrames(3, 5);
  const back = unpack(pack(frames));
  assert.deepEqual(back.map((f) => Buffer.from(f)), frames.map((f) => Buffer.from(f)));
  const m = decode(back) as BatchMessage;
  assert.deepEqual(m.s.shape, [3, 5]);
  assert.deepEqual(m.t!.shape, [3, 5]);
  assert.deepEqual([...m.t!.data], new Array<number>(15).fill(0.5));
  assert.deepEqual(unpack(pack([])), []);
});

test('unpack rejects a buffer too short for its table, a frame running past the end, and trailing bytes', () => {
  const good = pack([new Uint8Array([1, 2, 3])]);
  assert.throws(() => unpack(new Uint8Array(2)), /^RangeError: packed message of 2 bytes cannot hold its frame table$/);
  assert.throws(() => unpack(good.subarray(0, good.length - 1)), /^RangeError: packed frame 0 of 3 bytes runs past the message \(10 bytes\)$/);
  assert.throws(() => unpack(Buffer.concat([good, Buffer.from([0])])), /^RangeError: packed message has 1 bytes after its frames$/);
});

test('a small run measures ZeroMQ and gRPC between two processes and prints both', async () => {
  const r = await transportBench({ batch: 4, width: 8, messages: 10, roundTrips: 2, repetitions: 2 });
  assert.equal(r.messageBytes, 28 + 4 * 4 + 2 * 4 * 4 * 8);
  assert.deepEqual(r.transports.map((t) => t.transport), ['zeromq', 'grpc']);
  for (const t of r.transports) {
    assert.equal(t.mbPerSecRuns.length, 2);
    assert.ok([...t.mbPerSecRuns, t.batchRoundTripMs, t.smallRoundTripUs].every((x) => Number.isFinite(x) && x > 0), JSON.stringify(t));
    assert.ok(t.batchRoundTripP90Ms >= t.batchRoundTripMs, JSON.stringify(t));
  }
  assert.deepEqual(r.zeromqAgainst.map((q) => q.transport), ['grpc']);
  for (const q of r.zeromqAgainst) assert.ok([q.throughput, q.batchRoundTrip, q.smallRoundTrip].every((x) => Number.isFinite(x) && x > 0), JSON.stringify(q));
  const rows = transportRows(r);
  assert.equal(rows.length, 5);
  assert.match(rows[2]!, /^ZeroMQ +\d+ +\d+ \d+ +\d+\.\d\d, \d+\.\d\d +\d+$/);
  assert.match(rows[3]!, /^gRPC \(grpc-js\) +\d+ /);
  assert.match(rows[4]!, /^ZeroMQ against gRPC \(grpc-js\) \(medians of each repetition's ratios\): \d+\.\d\dx the throughput/);
});

test('the receiver process refuses an unknown transport with exit code 2', () => {
  const script = fileURLToPath(new URL('../../../src/bench/transport_peer.js', import.meta.url));
  const r = spawnSync(process.execPath, [script, 'carrier-pigeon'], { encoding: 'utf8', input: '' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "transport peer: expected zeromq or grpc, got 'carrier-pigeon'\n");
});
