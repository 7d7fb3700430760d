// median: the figure every benchmark ratio is reported by.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median } from '../../../src/bench/timing.js';

test('median: the middle value, or the mean of the two middle ones, whatever the order', () => {
  assert.equal(median([5]), 5);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([0.9, 1.3]), 1.1);
});
