// An Associated Learning network of your own (examples/blobs_al_net.mjs: three AL layers of the
// library's Linear, Activation and Sequential layers), trained on data made here twice: once
// sequentially, once pipelined on 2 worker threads (AL layer 1 | layers 2 and 3), which must end
// bit-identical. Then the pipelined net predicts from each exit layer.
//
//   node examples/custom_al_net.mjs
//
// A pipeline stage builds its layers itself, in its own thread: it imports the module that
// defines the net (ALNetModule) and takes the initial weights from this coordinator.
import { ALLearner, ALPipeline, Rng, Tensor, accuracy, runEpochs, runPipelinedEpochs } from 'associated-learning';
import { CLASSES, FEATURES, buildNet } from './blobs_al_net.mjs';

const EPOCHS = 9, BATCH = 32, SEED = 7;
const rng = new Rng(1);

/** n samples of CLASSES Gaussian blobs (class c's centre is 3 along axis c), as a Split of feature vectors. */
function blobs(n) {
  const images = new Float32Array(n * FEATURES), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(CLASSES);
    for (let f = 0; f < FEATURES; f++) {
      const gauss = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      images[i * FEATURES + f] = gauss + (f === labels[i] ? 3 : 0);
    }
  }
  return { images, labels, n, shape: [1, 1, FEATURES], classes: CLASSES, tabular: true };
}
const data = { train: blobs(1024), test: blobs(512) };
const loop = () => ({ epochs: EPOCHS, batchSize: BATCH, rng: new Rng(2) }); // the same data order for both

// sequential AL: each batch passes through the layers in order, each taking one local step
const sequential = buildNet(new Rng(SEED));
const seqHistory = await runEpochs(new ALLearner(sequential), data, loop());

// pipelined AL: the same net, built from the same seed here, its layers split over two stages
const net = buildNet(new Rng(SEED));
console.log(String(net));
const module = new URL('./blobs_al_net.mjs', import.meta.url).href;
const pipeline = await ALPipeline.start({ blueprint: { module, exportName: 'buildNet' }, net, stages: [[0], [1, 2]], threads: 1 });
console.log('pipeline: 2 stages on worker threads (AL layers 1 | 2+3)');
let history;
try {
  const learner = new ALLearner(net);
  history = await runPipelinedEpochs(pipeline, data, { ...loop(), testAccuracy: (split) => learner.testAccuracy(split), lr: () => net.layers[0].forwardOptimizer.lr });
} finally {
  await pipeline.close();
}

const same = (a, b) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
history.forEach((m, e) => {
  const layers = m.layers.map((l, k) => `layer ${k + 1} associated ${l.associatedLoss.toFixed(5)} autoencoder ${l.autoencoderLoss.toFixed(5)}`);
  const equal = JSON.stringify(m.layers) === JSON.stringify(seqHistory[e].layers) && m.trainLoss === seqHistory[e].trainLoss;
  console.log(`epoch ${m.epoch}: ${layers.join(' | ')} (${equal ? 'equal to' : 'DIFFERENT from'} sequential)`);
});
const seqTensors = new Map(sequential.namedParameters());
const differ = net.namedParameters().filter(([name, t]) => !same(t.data, seqTensors.get(name).data)).map(([name]) => name);
console.log(differ.length === 0
  ? `weights: all ${seqTensors.size} tensors bit-identical to sequential AL`
  : `weights: ${differ.join(', ')} differ from sequential AL`);
if (differ.length > 0) process.exitCode = 1;

// prediction: h_1(...h_k(b_k(f_k(...f_1(x))))) from exit layer k
net.train(false);
const x = new Tensor(data.test.images, [data.test.n, 1, 1, FEATURES]);
for (let exit = 1; exit <= net.depth; exit++) {
  const scores = net.predict(x, exit).data;
  const predicted = Int32Array.from({ length: data.test.n }, (_, i) => {
    const row = Array.from(scores.subarray(CLASSES * i, CLASSES * i + CLASSES));
    return row.indexOf(Math.max(...row));
  });
  console.log(`exit ${exit}: test accuracy ${(100 * accuracy(predicted, data.test.labels)).toFixed(2)}%`);
}
