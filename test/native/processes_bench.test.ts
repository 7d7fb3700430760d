// The threads-vs-processes bench on a small MLP: both placements run, each repetition gives a
// rate, the stage processes report transport time (the worker threads none), and the printed rows
// carry the figures. Checks values are produced and sane, not how fast anything is.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { processesBench, processesRows, type ProcessesWorkload } from '../../src/bench/processes.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(1);
});

const small: ProcessesWorkload = {
  name: 'small-mlp', blueprint: { model: 'mlp', inputShape: [8, 8, 1], classes: 10, layers: 4, tWidth: 16, lr: 1e-3 }, stages: [[0, 1], [2, 3]],
};

test('threads and processes both run, in pairs; stage processes report transport time, threads none', async () => {
  const r = await processesBench(small, { batch: 16, batches: 8, repetitions: 2 });
  assert.equal(r.repetitions, 2);
  for (const f of [r.threads, r.processes]) {
    assert.equal(f.runs.length, 2);
    assert.ok(f.runs.every((x) => Number.isFinite(x) && x > 0), `rates ${f.runs}`);
    assert.ok(f.samplesPerSec >= Math.min(...f.runs) && f.samplesPerSec <= Math.max(...f.runs));
    assert.equal(f.stepMs.length, 2);
    assert.ok(f.stepMs.every((x) => Number.isFinite(x) && x > 0), `step ms ${f.stepMs}`);
  }
  assert.deepEqual(r.threads.wireMs, [0, 0]);
  assert.deepEqual(r.threads.overhead, [0, 0]);
  // every stage process decodes its input and encodes its output and reports: some time, always
  assert.ok(r.processes.wireMs.every((x) => Number.isFinite(x) && x > 0), `wire ms ${r.processes.wireMs}`);
  assert.ok(r.processes.overhead.every((x) => Number.isFinite(x) && x > 0), `overhead ${r.processes.overhead}`);
  const pairs = r.processes.runs.map((p, i) => p / r.threads.runs[i]!);
  assert.ok(r.ratio >= Math.min(...pairs) && r.ratio <= Math.max(...pairs), `ratio ${r.ratio} of pairs ${pairs}`);

  const rows = processesRows(r);
  assert.equal(rows.length, 5);
  assert.match(rows[0]!, /^threads vs processes small-mlp \(AL layers by stage: 1\+2 \| 3\+4, .*batch 16, 8 batches, 2 repetitions/);
  assert.match(rows[2]!, /^worker threads +\d+\.\d +\d+\.\d \d+\.\d +\d+\.\d\/\d+\.\d +- +-$/);
  assert.match(rows[3]!, /^processes \(ZeroMQ\) +\d+\.\d .* \d+\.\d\d\/\d+\.\d\d +\d+\.\d%\/\d+\.\d%$/);
  assert.match(rows[4]!, new RegExp(`^processes/threads ${r.ratio.toFixed(2)}x .* at most \\d+\\.\\d% of a stage's step time$`));
});

test('too few batches for a steady-state window is refused, naming the count', async () => {
  await assert.rejects(processesBench(small, { batch: 16, batches: 4, repetitions: 1 }), /^RangeError: processesBench: expected at least 5 batches, got 4$/);
});
