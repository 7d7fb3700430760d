// Pipelined AL on worker threads computes exactly what sequential AL computes: with the same seed
// and one compute thread per AL layer, every weight, batch-norm buffer and optimizer moment is
// bit-identical after the same batches, for an MLP and for a CNN with batch norm (ResNet units).
// Also: a stage that throws stops the run with that stage's index, a stage whose worker dies is
// noticed, and a stop between batches leaves the layers consistent.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALLearner } from '../../src/al/al_learner.js';
import type { AssociatedNet } from '../../src/al/associated_net.js';
import { buildAssociatedNet, type ALNetSpec } from '../../src/al/decompositions.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import type { Dataset } from '../../src/data/dataset.js';
import { randomSplit } from '../../src/data/synthetic.js';
import { ALPipeline, PipelineError } from '../../src/pipeline/al/al_pipeline.js';
import { layerState } from '../../src/pipeline/al/al_stage.js';
import type { ALNetBlueprint } from '../../src/pipeline/runtime/messages.js';
import { runPipelinedEpochs } from '../../src/pipeline/runtime/run_pipelined.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { runEpochs } from '../../src/train/loop.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(1);
});

function dataset(shape: [number, number, number]): Dataset {
  return { train: randomSplit(100, shape, 10, 1), test: randomSplit(20, shape, 10, 2) };
}

const mlp: ALNetBlueprint = { model: 'mlp', inputShape: [8, 8, 1], classes: 10, layers: 3, tWidth: 16, lr: 1e-3, milestones: [{ at: 0.5, factor: 0.1 }] };
const resnet: ALNetBlueprint = { model: 'resnet20', inputShape: [8, 8, 3], classes: 10, layers: 4, tWidth: 12, lr: 1e-3 };

/** Every tensor and optimizer buffer of the net, flattened, in a fixed order. */
function snapshot(net: AssociatedNet): [string, Float32Array][] {
  return net.layers.flatMap((layer) => {
    const state = layerState(layer);
    const moments = Object.entries({ ...state.optimizers.forward.buffers, ...Object.fromEntries(Object.entries(state.optimizers.target.buffers).map(([k, v]) => [`target.${k}`, v])) })
      .flatMap(([k, list]) => list.map((b, i): [string, Float32Array] => [`layers.${layer.index}.${k}.${i}`, b]));
    return [...state.tensors.map(([n, d]): [string, Float32Array] => [`layers.${layer.index}.${n}`, d]), ...moments];
  });
}

async function sequential(blueprint: ALNetBlueprint, data: Dataset, seed: number, epochs: number): Promise<AssociatedNet> {
  const rng = new Rng(seed);
  const net = buildAssociatedNet({ ...blueprint, rng } as ALNetSpec);
  await runEpochs(new ALLearner(net), data, { epochs, batchSize: 16, rng });
  return net;
}

async function pipelined(blueprint: ALNetBlueprint, data: Dataset, seed: number, epochs: number, stages: number[][]): Promise<AssociatedNet> {
  const rng = new Rng(seed);
  const net = buildAssociatedNet({ ...blueprint, rng } as ALNetSpec);
  const pipeline = await ALPipeline.start({ blueprint, net, stages, threads: 1, trace: true });
  try {
    await runPipelinedEpochs(pipeline, data, {
      epochs, batchSize: 16, rng, testAccuracy: () => 0, lr: () => net.layers[0]!.forwardOptimizer.lr,
    });
    assert.ok(pipeline.intervals.length > 0);
  } finally {
    await pipeline.close();
  }
  return net;
}

function assertBitIdentical(a: AssociatedNet, b: AssociatedNet): void {
  const sa = snapshot(a), sb = snapshot(b);
  assert.deepEqual(sa.map(([n]) => n), sb.map(([n]) => n));
  sa.forEach(([name, x], i) => {
    const y = sb[i]![1];
    assert.equal(x.length, y.length, name);
    const bitsX = new Uint32Array(x.buffer, x.byteOffset, x.length), bitsY = new Uint32Array(y.buffer, y.byteOffset, y.length);
    const diff = bitsX.findIndex((v, j) => v !== bitsY[j]);
    assert.equal(diff, -1, `${name}[${diff}]: ${x[diff]} vs ${y[diff]}`);
  });
}

test('pipelined AL (MLP, one stage per layer) ends bit-identical to sequential AL, across an lr milestone', async () => {
  const data = dataset([8, 8, 1]);
  const seq = await sequential(mlp, data, 7, 2);
  const pipe = await pipelined(mlp, data, 7, 2, [[0], [1], [2]]);
  assertBitIdentical(seq, pipe);
  // and it really trained: the weights moved away from the initial ones
  const init = buildAssociatedNet({ ...mlp, rng: new Rng(7) } as ALNetSpec);
  assert.notDeepEqual(snapshot(init)[0]![1], snapshot(pipe)[0]![1]);
});

test('pipelined AL (ResNet units with batch norm, 4 layers on 2 stages) ends bit-identical to sequential AL', async () => {
  const data = dataset([8, 8, 3]);
  const seq = await sequential(resnet, data, 3, 1);
  const pipe = await pipelined(resnet, data, 3, 1, [[0, 1], [2, 3]]);
  assertBitIdentical(seq, pipe);
});

test('pipelined AL on a Vanilla CNN cut 3,1,2,2 (--al-cut): the stages build that cut and end bit-identical to sequential AL', async () => {
  const cnn: ALNetBlueprint = { model: 'cnn', inputShape: [8, 8, 1], classes: 10, cut: [3, 1, 2, 2], tWidth: 8, lr: 1e-3 };
  const data = dataset([8, 8, 1]);
  const seq = await sequential(cnn, data, 5, 1);
  assert.equal(seq.layers[0]!.namedParameters().find(([n]) => n === 'b.1.weight')![1].shape[1], 8 * 8 * 32, 'layer 1 holds three stride-1 units');
  const pipe = await pipelined(cnn, data, 5, 1, [[0], [1, 2, 3]]);
  assertBitIdentical(seq, pipe);
});

/** The class scores the net predicts for the test split, as an evaluation sees them. */
function testScores(net: AssociatedNet, data: Dataset): Float32Array {
  net.train(false);
  try {
    return net.predict(new Tensor(data.test.images, [data.test.n, ...data.test.shape])).data.slice();
  } finally {
    net.train(true);
  }
}

test('evaluations between steps from the stages\' snapshots see, at every step, the model sequential AL has there; the stages hold instead of draining', async () => {
  for (const [blueprint, shape, stages, epochs] of [[mlp, [8, 8, 1], [[0], [1], [2]], 2], [resnet, [8, 8, 3], [[0, 1], [2, 3]], 1]] as const) {
    const data = dataset([...shape]);
    const seqRng = new Rng(4);
    const seqNet = buildAssociatedNet({ ...blueprint, rng: seqRng } as ALNetSpec);
    const expected: Float32Array[] = [];
    await runEpochs(new ALLearner(seqNet), data, { epochs, batchSize: 16, rng: seqRng, afterStep: () => { expected.push(testScores(seqNet, data)); } });

    const rng = new Rng(4);
    const net = buildAssociatedNet({ ...blueprint, rng } as ALNetSpec);
    const pipeline = await ALPipeline.start({ blueprint, net, stages: stages.map((s) => [...s]), threads: 1 });
    const seen: number[] = [];
    try {
      await runPipelinedEpochs(pipeline, data, {
        epochs, batchSize: 16, rng, testAccuracy: () => 0, lr: () => 0, evaluatesAfter: () => true,
        afterStep: async (at, settle) => {
          await settle();
          // the last stage holds right after the batch evaluated: no drain of the batches fed since
          assert.equal(pipeline.batchesDone, at.step, `step ${at.step}`);
          const scores = testScores(net, data);
          assert.deepEqual(scores, expected[at.step - 1], `${blueprint.model}: the model evaluated after step ${at.step}`);
          seen.push(at.step);
        },
      });
    } finally {
      await pipeline.close();
    }
    assert.deepEqual(seen, expected.map((_, i) => i + 1));
    assertBitIdentical(seqNet, net);
  }
});

test('a stage that throws stops the run with its stage index and layers, without hanging', async () => {
  const data = dataset([8, 8, 1]);
  const rng = new Rng(1);
  const net = buildAssociatedNet({ ...mlp, rng } as ALNetSpec);
  const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0], [1, 2]], threads: 1, fault: { stage: 1, batch: 3, kind: 'throw' } });
  try {
    await assert.rejects(
      runPipelinedEpochs(pipeline, data, { epochs: 3, batchSize: 16, rng, testAccuracy: () => 0, lr: () => 0 }),
      (e: unknown) => e instanceof PipelineError && e.stage === 1 && /stage 2 \(AL layers 2, 3\): fault injected at batch 3/.test(e.message),
    );
  } finally {
    await pipeline.close();
  }
});

test('a stage whose worker dies is noticed and named; the run does not hang', async () => {
  const data = dataset([8, 8, 1]);
  const rng = new Rng(1);
  const net = buildAssociatedNet({ ...mlp, rng } as ALNetSpec);
  const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0], [1], [2]], threads: 1, fault: { stage: 2, batch: 5, kind: 'exit' } });
  try {
    await assert.rejects(
      runPipelinedEpochs(pipeline, data, { epochs: 3, batchSize: 16, rng, testAccuracy: () => 0, lr: () => 0 }),
      /pipeline stage 3 \(AL layer 3\): the worker exited unexpectedly \(code 3\)/,
    );
  } finally {
    await pipeline.close();
  }
});

test('a stop between batches drains the pipeline, also with snapshots still due: every layer has seen the same batches', async () => {
  const data = dataset([8, 8, 1]);
  const seqRng = new Rng(5);
  const seqNet = buildAssociatedNet({ ...mlp, rng: seqRng } as ALNetSpec);
  let seqSteps = 0;
  await runEpochs(new ALLearner(seqNet), data, { epochs: 1, batchSize: 16, rng: seqRng, shouldStop: () => ++seqSteps >= 4 });

  for (const evaluating of [false, true]) {
    const rng = new Rng(5);
    const net = buildAssociatedNet({ ...mlp, rng } as ALNetSpec);
    const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0], [1], [2]], threads: 1 });
    const evaluated: number[] = [];
    let fed = 0;
    try {
      // evaluating: every step marked, and steps 3 and 4 still wait for their snapshots when the stop
      // comes; the drain must let every stage's hold go
      const history = await runPipelinedEpochs(pipeline, data, {
        epochs: 3, batchSize: 16, rng, testAccuracy: () => 0, lr: () => 0,
        evaluatesAfter: (step) => (fed = step) > 0 && evaluating,
        afterStep: async (at, settle) => {
          if (!evaluating) return;
          await settle();
          evaluated.push(at.step);
        },
        shouldStop: () => fed >= 4,
      });
      assert.equal(history.length, 0, 'an unfinished epoch is not reported');
      assert.equal(pipeline.batchesDone, 4);
    } finally {
      await pipeline.close();
    }
    assert.deepEqual(evaluated, evaluating ? [1, 2] : []);
    assertBitIdentical(seqNet, net);
  }
});

test('the weights live in one place: the stages take the coordinator\'s arrays, a collect brings copies the next batch gives up, the last collect brings the stages\' own', async () => {
  const data = dataset([8, 8, 1]);
  const net = buildAssociatedNet({ ...mlp, rng: new Rng(6) } as ALNetSpec);
  const weightTensor = net.layers[0]!.parts.f.parameters()[0]!;
  // a weight given away reads as an error that says so; its count is what it holds here
  const weight = (): Float32Array => {
    try {
      return weightTensor.data;
    } catch (error) {
      assert.match(String(error), /GivenAwayError: .*moved to pipeline stages/);
      return new Float32Array(0);
    }
  };
  const moment = (): Float32Array => net.layers[2]!.forwardOptimizer.state().buffers['m']![0]!;
  const [weightSize, momentSize] = [weight().length, moment().length];
  const feed = (index: number): Promise<void> => {
    const size = 8 * 8;
    return pipeline.feed(data.train.images.slice(index * 16 * size, (index + 1) * 16 * size), [16, 8, 8, 1], data.train.labels.slice(index * 16, (index + 1) * 16), 0, 1);
  };
  const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0], [1, 2]], threads: 1 });
  try {
    assert.deepEqual([weight().length, moment().length], [0, 0], 'given to the stages');
    await feed(0);
    await pipeline.collect();
    assert.deepEqual([weight().length, moment().length], [weightSize, momentSize], 'a collect brings every array back');
    assert.ok(moment().some((v) => v !== 0), 'trained state: Adam moments after a step');
    const collected = weight().slice();
    await feed(1);
    assert.equal(weight().length, 0, 'the next batch gives the copies up');
    await pipeline.collect({ handOver: true });
    assert.equal(weight().length, weightSize);
    assert.ok(weight().some((v, i) => v !== collected[i]), 'the state after the second batch');
    // the stages gave their own arrays: one more batch is an error that says why, not a hang
    await feed(2);
    await assert.rejects(pipeline.drain(), /batch 2 came after the run's last collect took this stage's layers/);
  } finally {
    await pipeline.close();
  }
});
