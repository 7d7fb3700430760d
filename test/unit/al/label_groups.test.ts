import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelGroups } from '../../../src/al/label_groups.js';

test('labelGroups numbers the labels present in order of first appearance and names each group\'s first sample', () => {
  const { index, first } = labelGroups(Int32Array.of(7, 2, 7, 7, 0, 2));
  assert.deepEqual([...index], [0, 1, 0, 0, 2, 1]);
  assert.deepEqual([...first], [0, 1, 4]);
});

test('labelGroups: distinct labels make one group each; no labels, no groups', () => {
  assert.deepEqual([...labelGroups(Int32Array.of(3, 1, 2)).first], [0, 1, 2]);
  const empty = labelGroups(new Int32Array(0));
  assert.equal(empty.index.length, 0);
  assert.equal(empty.first.length, 0);
});
