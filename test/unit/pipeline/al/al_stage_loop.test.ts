// Where a stage holds for the marks of the coordinator's snapshots: K-1-k batches past the oldest
// mark not let go, and never for a mark already let go, even when the resume overtook it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Holds } from '../../../../src/pipeline/al/al_stage_loop.js';

test('stage k of K trains up to the oldest mark + K-1-k; a resume lets go of it and older marks', () => {
  const first = new Holds(0, 3), last = new Holds(2, 3);
  for (const h of [first, last]) {
    h.mark(4);
    h.mark(6);
  }
  assert.equal(first.holds(6), false);
  assert.equal(first.holds(7), true, 'the first of 3 stages runs 2 batches past mark 4, as in the steady state');
  assert.equal(last.holds(4), false);
  assert.equal(last.holds(5), true, 'the last stage stops right after the marked batch');
  last.resume(4);
  assert.equal(last.holds(6), false);
  assert.equal(last.holds(7), true, 'now held by mark 6');
  last.resume(9);
  assert.equal(last.holds(100), false);
});

test('a mark that comes after the resume that lets it go sets no hold', () => {
  const h = new Holds(1, 2);
  h.resume(5);
  assert.deepEqual([h.mark(3), h.mark(5)], [false, false], 'let go already');
  assert.equal(h.holds(50), false);
  assert.equal(h.mark(8), true);
  assert.equal(h.holds(8), false);
  assert.equal(h.holds(9), true);
});
