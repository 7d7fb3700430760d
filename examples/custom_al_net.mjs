// An Associated Learning network of your own: three AL layers built from the library's layers
// (Linear, activations, Sequential), trained sequentially on data made here, then asked to
// predict from each exit layer.
//
//   node examples/custom_al_net.mjs
//
// AL layer i has four parts (src/al/al_layer.ts): f_i encodes s_{i-1} -> s_i, the bridge b_i
// maps s_i into the space of t_i, g_i encodes the target t_{i-1} -> t_i (t_0 = the one-hot
// label) and h_i decodes t_i -> t_{i-1}. Each layer trains on its own two losses,
// ||b_i(s_i) - t_i||² (f_i, b_i) and ||h_i(t_i) - t_{i-1}||² (g_i, h_i), with its own optimizers.
//
// Training here is sequential. Pipelined AL (`al train --pipeline`) rebuilds each stage's layers
// inside its worker thread from the description of a built-in backbone, so it takes those
// backbones (buildAssociatedNet), not a network of your own layers.
import { ALLayer, Activation, AssociatedNet, Linear, Rng, Sequential, Tensor, accuracy } from 'associated-learning';

const FEATURES = 8, CLASSES = 3, BATCH = 32, STEPS = 300;
const rng = new Rng(7);

/** n samples of CLASSES Gaussian blobs: class c's centre is 3 along axis c. */
function blobs(n) {
  const x = new Float32Array(n * FEATURES), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(CLASSES);
    for (let f = 0; f < FEATURES; f++) {
      const gauss = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      x[i * FEATURES + f] = gauss + (f === labels[i] ? 3 : 0);
    }
  }
  return { x, labels, n };
}
const train = blobs(1024), test = blobs(512);

// widths of s_0..s_3 (s_0 = x) and of t_0..t_3 (t_0 = the one-hot label)
const s = [FEATURES, 32, 32, 32], t = [CLASSES, 16, 16, 16];
const dense = (from, to, kind) => new Sequential(new Linear(from, to, rng), new Activation(kind));
const layers = [1, 2, 3].map((i) => new ALLayer(i, {
  f: dense(s[i - 1], s[i], 'relu'),
  b: dense(s[i], t[i], 'sigmoid'),
  g: dense(t[i - 1], t[i], 'sigmoid'),
  h: dense(t[i], t[i - 1], 'sigmoid'),
}, { lr: 3e-3, targetLr: 6e-3, weightDecay: 0, milestones: [] }));
const net = new AssociatedNet(layers, CLASSES);
console.log(String(net));

// sequential AL: each batch passes through the layers in order, each taking one local step
const batches = train.n / BATCH;
for (let step = 1; step <= STEPS; step++) {
  const from = ((step - 1) % batches) * BATCH;
  const x = new Tensor(train.x.slice(from * FEATURES, (from + BATCH) * FEATURES), [BATCH, FEATURES]);
  const { losses } = net.trainStep(x, train.labels.slice(from, from + BATCH));
  if (step === 1 || step % 50 === 0) {
    console.log(`step ${step}: ` + losses.map((l, k) => `layer ${k + 1} associated ${l.associatedLoss.toFixed(5)} autoencoder ${l.autoencoderLoss.toFixed(5)}`).join(' | '));
  }
}

// prediction: h_1(...h_k(b_k(f_k(...f_1(x))))) from exit layer k
net.train(false);
const x = new Tensor(test.x, [test.n, FEATURES]);
for (let exit = 1; exit <= net.depth; exit++) {
  const scores = net.predict(x, exit).data;
  const predicted = Int32Array.from({ length: test.n }, (_, i) => {
    const row = Array.from(scores.subarray(CLASSES * i, CLASSES * i + CLASSES));
    return row.indexOf(Math.max(...row));
  });
  console.log(`exit ${exit}: test accuracy ${(100 * accuracy(predicted, test.labels)).toFixed(2)}%`);
}
