// WireClock, the transport timer of stage processes: it adds up the time of what it wraps, also
// when that throws (and rethrows), and take() hands the sum over and starts again from zero.
// SendQueue: a message reaches the socket on the caller's stack when nothing is ahead of it (a
// stage's credit must leave before its step holds the thread), and in order behind a busy socket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SendQueue, WireClock } from '../../../../src/pipeline/runtime/zmq_transport.js';

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('WireClock sums wrapped time, counts a throwing call, and take() resets it', () => {
  const clock = new WireClock();
  assert.equal(clock.take(), 0);
  // bounded by the wall time around the wrapped calls alone (the machine may pause us anywhere)
  let outside = performance.now();
  assert.equal(clock.time(() => {
    spin(5);
    return 42;
  }), 42);
  assert.throws(() => clock.time(() => {
    spin(5);
    throw new Error('boom');
  }), /^Error: boom$/);
  outside = performance.now() - outside;
  spin(30); // not wrapped: not counted
  const ms = clock.take();
  assert.ok(ms >= 10 && ms <= outside, `${ms} ms counted, ${outside} ms around the wrapped calls`);
  assert.equal(clock.take(), 0);
});

/** A fake socket send: records each message's first byte; `busy` makes it throw EBUSY as ZeroMQ
 * does while an earlier send still waits, and `pending` holds the promise it returns open. */
function fakeSocket() {
  const sent: number[] = [];
  let release: () => void = () => {};
  const socket = {
    sent,
    busy: false,
    pending: false,
    release: () => release(),
    send: (frames: Buffer[]): Promise<void> => {
      if (socket.busy) throw Object.assign(new Error('Socket is busy writing'), { code: 'EBUSY' });
      sent.push(frames[0]![0]!);
      if (!socket.pending) return Promise.resolve();
      socket.busy = true;
      return new Promise<void>((resolve) => (release = () => {
        socket.busy = false;
        resolve();
      }));
    },
  };
  return socket;
}

const message = (k: number): Uint8Array[] => [Uint8Array.of(k)];

test('SendQueue hands a message to the socket before push returns when nothing is ahead of it', () => {
  const socket = fakeSocket();
  const queue = new SendQueue((f) => socket.send(f), (e) => assert.fail(e));
  queue.push(message(1));
  assert.deepEqual(socket.sent, [1]);
  queue.push(message(2));
  assert.deepEqual(socket.sent, [1, 2], 'a second message in the same tick also goes at once');
});

test('SendQueue keeps the order behind a busy socket and sends the rest once it is free', async () => {
  const socket = fakeSocket();
  const queue = new SendQueue((f) => socket.send(f), (e) => assert.fail(e));
  socket.pending = true;
  queue.push(message(1));
  socket.pending = false;
  queue.push(message(2)); // the socket throws EBUSY: queued
  queue.push(message(3)); // something is queued: queued behind it, never sent ahead
  assert.deepEqual(socket.sent, [1]);
  socket.release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(socket.sent, [1, 2, 3]);
  queue.push(message(4));
  assert.deepEqual(socket.sent, [1, 2, 3, 4], 'idle again: straight to the socket');
});

test('SendQueue gives a failed send, synchronous or not, to onError and goes on', async () => {
  const errors: string[] = [];
  let fail: 'throw' | 'reject' | null = 'throw';
  const sent: number[] = [];
  const queue = new SendQueue((f) => {
    if (fail === 'throw') throw new Error('EHOSTUNREACH now');
    if (fail === 'reject') return Promise.reject(new Error('EHOSTUNREACH later'));
    sent.push(f[0]![0]!);
    return Promise.resolve();
  }, (e) => errors.push(e.message));
  queue.push(message(1));
  fail = 'reject';
  queue.push(message(2), (e) => errors.push(`own: ${e.message}`));
  fail = null;
  queue.push(message(3));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, ['EHOSTUNREACH now', 'own: EHOSTUNREACH later']);
  assert.deepEqual(sent, [3]);
});

test('SendQueue: a queued send that throws at once goes to onError, and the messages behind it still go', async () => {
  const socket = fakeSocket();
  const errors: string[] = [];
  let closed = false;
  const queue = new SendQueue((f) => {
    if (closed && f[0]![0] === 2) throw new Error('Socket is closed');
    return socket.send(f);
  }, (e) => errors.push(e.message));
  socket.pending = true;
  queue.push(message(1));
  socket.pending = false;
  queue.push(message(2)); // EBUSY: queued
  queue.push(message(3)); // behind it
  closed = true;
  socket.release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, ['Socket is closed']);
  assert.deepEqual(socket.sent, [1, 3]);
});
