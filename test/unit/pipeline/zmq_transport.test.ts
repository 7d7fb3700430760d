// WireClock, the transport timer of stage processes: it adds up the time of what it wraps, also
// when that throws (and rethrows), and take() hands the sum over and starts again from zero.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireClock } from '../../../src/pipeline/zmq_transport.js';

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
