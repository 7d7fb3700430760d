// The wire format of stage processes: batches and JSON messages round-trip exactly (tensors as
// raw float32 bits, never JSON), and any truncated or random input is a FrameError, nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameError, HELLO_LIMITS, MAX_PIECE, RUN_LIMITS, WIRE_VERSION, decode, decodeWire, encode, encodeWire, fromWire, toWire } from '../../../../src/pipeline/runtime/frames.js';
import type { BatchMessage } from '../../../../src/pipeline/runtime/messages.js';
import { Rng } from '../../../../src/tensor/rng.js';

const batch: BatchMessage = {
  type: 'batch', index: 41, epoch: 2, epochs: 5,
  s: { data: Float32Array.from([1.5, -0, Number.NaN, 3e-39, -7, 1e30]), shape: [2, 3] },
  t: { data: Float32Array.from([0.25, -0.5]), shape: [2, 1] },
};

function same(a: Float32Array, b: Float32Array): void {
  assert.deepEqual(new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length));
}

test('a batch round-trips bit-exactly with its typed header; tensors are raw frames', () => {
  const frames = encode(batch);
  assert.equal(frames.length, 3);
  assert.equal(frames[1]!.byteLength, 24, 's travels as 6 raw float32s');
  const back = decode(frames) as BatchMessage;
  assert.deepEqual([back.index, back.epoch, back.epochs, back.s.shape, back.t!.shape], [41, 2, 5, [2, 3], [2, 1]]);
  same(back.s.data, batch.s.data);
  same(back.t!.data, batch.t!.data);
  const first: BatchMessage = { type: 'batch', index: 0, epoch: 0, epochs: 1, s: batch.s, labels: Int32Array.from([3, 9]) };
  const b2 = decode(encode(first)) as BatchMessage;
  assert.deepEqual([...b2.labels!], [3, 9]);
  assert.equal(b2.t, undefined);
});

test('a JSON message carries its typed arrays as raw frames, restored by reference', () => {
  const state = { type: 'state', request: 3, state: [{ index: 1, tensors: [['f.w', Float32Array.from([0.1, -2])]], ids: Int32Array.from([7]) }] };
  const frames = encode(state);
  assert.equal(frames.length, 4);
  assert.ok(!Buffer.from(frames[1]!).toString().includes('0.1'), 'no tensor value in the JSON');
  const back = decode(frames) as unknown as typeof state;
  same(back.state[0]!.tensors[0]![1] as Float32Array, Float32Array.from([0.1, -2]));
  assert.deepEqual([...back.state[0]!.ids], [7]);
});

test('NaN and infinities in a JSON message arrive as they left, not as null', () => {
  const done = { type: 'done', stage: 1, index: 4, loss: Number.NaN, losses: [{ associatedLoss: Number.POSITIVE_INFINITY, autoencoderLoss: -Infinity }], correct: 0 };
  const back = decode(encode(done)) as unknown as typeof done;
  assert.ok(Number.isNaN(back.loss));
  assert.deepEqual(back.losses, [{ associatedLoss: Number.POSITIVE_INFINITY, autoencoderLoss: -Infinity }]);
  assert.equal(back.correct, 0);
  // an object that merely looks like one keeps its other values
  assert.deepEqual((decode(encode({ type: 'x', v: { $num: 'seven' } })) as unknown as { v: unknown }).v, { $num: 'seven' });
});

test('every truncation of a valid message is a FrameError naming what is wrong', () => {
  for (const message of [batch, { type: 'done', losses: [1, 2], x: Float32Array.from([1]) }]) {
    const frames = encode(message);
    assert.throws(() => decode([]), FrameError);
    for (let f = 0; f < frames.length; f++) {
      for (let cut = 0; cut < frames[f]!.byteLength; cut++) {
        const broken = frames.map((x, i) => (i === f ? x.subarray(0, cut) : x));
        assert.throws(() => decode(broken), FrameError, `frame ${f} cut to ${cut} bytes`);
      }
      assert.throws(() => decode(frames.slice(0, f)), FrameError, `${f} of ${frames.length} frames`);
    }
  }
  assert.throws(() => decode(encode(batch).slice(0, 2)), /batch of 2 frames, expected 3/);
});

test('random frames, and valid headers with random bodies, only ever give FrameError', () => {
  const rng = new Rng(11);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(256));
  const valid = encode(batch);
  for (let i = 0; i < 2000; i++) {
    const count = 1 + rng.int(4);
    const frames = Array.from({ length: count }, () => bytes(rng.int(64)));
    // half the time keep a valid magic and version so the decoder goes past the first check
    if (i % 2 === 0 && frames[0]!.byteLength >= 8) frames[0]!.set(valid[0]!.subarray(0, 5));
    try {
      decode(frames);
    } catch (error) {
      assert.ok(error instanceof FrameError, `input ${i}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
});

// ***** pieces on the wire *****

test('toWire/fromWire: frames above MAX_PIECE cross in pieces of at most MAX_PIECE and come back whole', () => {
  const big = Float32Array.from({ length: (MAX_PIECE * 2.5) / 4 }, (_, i) => i * 0.5);
  const m = { type: 'state', stage: 0, request: 1, state: { w: big, b: new Float32Array(0), n: 3 } };
  const wire = encodeWire(m);
  assert.ok(wire.every((piece, i) => i === 0 || piece.byteLength <= MAX_PIECE));
  assert.equal(wire.length, 1 + 2 + 3, 'layout, header and JSON body, three pieces of w, none for the empty b');
  assert.deepEqual(decodeWire(wire, RUN_LIMITS), m);
});

test('fromWire checks the layout against the limits before joining anything, naming what is wrong', () => {
  const wire = encodeWire({ type: 'hello', role: 'coordinator', token: 'x'.repeat(100_000), version: WIRE_VERSION });
  assert.throws(() => fromWire(wire, HELLO_LIMITS), new FrameError(`a message of ${wire[1]!.byteLength + wire[2]!.byteLength} bytes, at most ${HELLO_LIMITS.bytes} accepted here`));
  const many = toWire(Array.from({ length: 5 }, () => new Uint8Array(1)));
  assert.throws(() => fromWire(many, HELLO_LIMITS), /a message of 5 frames, at most 4 accepted here/);
  const small = encodeWire({ type: 'ping' });
  assert.throws(() => fromWire([...small, new Uint8Array(1)], RUN_LIMITS), /a message of 3 pieces, its layout gives 2/);
  assert.throws(() => fromWire([small[0]!, small[1]!, small[2]!.subarray(1)], RUN_LIMITS), /frame 1, piece 0: \d+ bytes, expected \d+/);
  assert.throws(() => fromWire(encode({ type: 'ping' }), RUN_LIMITS), /a message without its layout frame/);
  assert.throws(() => fromWire([Buffer.from('junk')], RUN_LIMITS), /not a pipeline message \(bad magic number\)/);
});
