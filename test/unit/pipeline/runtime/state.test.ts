// Named tensors loaded from another thread or process: copied by name, and refused with the owner,
// the name or the entry when the source does not match, before anything is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNamedTensors } from '../../../../src/pipeline/runtime/state.js';
import { StageConfigError } from '../../../../src/pipeline/runtime/errors.js';

const targets = (): [string, Float32Array][] => [['f.weight', new Float32Array(4)], ['f.bias', new Float32Array(2)]];

test('loadNamedTensors copies each source tensor into the target of its name, in any order', () => {
  const live = targets();
  loadNamedTensors(live, [['f.bias', new Float32Array([5, 6])], ['f.weight', new Float32Array([1, 2, 3, 4])]], 'AL layer 1');
  assert.deepEqual([...live[0]![1]], [1, 2, 3, 4]);
  assert.deepEqual([...live[1]![1]], [5, 6]);
});

test('a source that does not match is refused naming the owner and what is wrong, and nothing is written', () => {
  const refused = (source: unknown, message: RegExp): void => {
    const live = targets();
    assert.throws(() => loadNamedTensors(live, source as [string, Float32Array][], 'AL layer 2'), (e: unknown) => e instanceof StageConfigError && message.test(e.message));
    assert.ok(live.every(([, a]) => a.every((v) => v === 0)));
  };
  refused({ 'f.weight': [] }, /^AL layer 2: state is not a list of named tensors$/);
  refused([['f.weight', new Float32Array(4)]], /AL layer 2: state has 1 tensors, expected 2/);
  refused([['f.weight', new Float32Array([1, 1, 1, 1])], ['f.bias', [1, 2]]], /AL layer 2: state entry 1 is not a name with a Float32Array/);
  refused([['f.weight', new Float32Array([1, 1, 1, 1])], [7, new Float32Array(2)]], /state entry 1 is not a name/);
  refused([['f.weight', new Float32Array([1, 1, 1, 1])], ['f.bias', new Float32Array(3)]], /AL layer 2: tensor 'f.bias' has 3 elements, expected 2/);
  refused([['f.bias', new Float32Array([1, 1])], ['f.bias', new Float32Array([1, 1])]], /AL layer 2: state names a tensor twice/);
  refused([['f.bias', new Float32Array([1, 1])], ['g.bias', new Float32Array(2)]], /AL layer 2: state has an unknown tensor 'g.bias'/);
});

test('a wrong size is refused naming the tensor', () => {
  assert.throws(() => loadNamedTensors(targets(), [['f.weight', new Float32Array(3)], ['f.bias', new Float32Array(2)]], 'AL layer 1'),
    /AL layer 1: tensor 'f.weight' has 3 elements, expected 4/);
});
