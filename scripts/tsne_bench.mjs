// Times t-SNE on the first N MNIST test images (784 raw pixels each), the bar of issue 6:
// 5,000 points in under 60 s. Needs the build (`npm run build`): it runs the compiled dist/.
//
//   node scripts/tsne_bench.mjs [--n 5000] [--iterations 1000] [--threads T] [--theta 0.5] [--seed 1]
//
// Prints the time of each phase (affinities: k-NN and calibration; descent), the process's user
// CPU time (on a shared machine the wall clock alone says little), the final KL divergence, and
// the 10-NN label agreement in the embedding (how well digits separate, a sanity check).
import { parseArgs } from 'node:util';

import { TsneRun } from '../dist/src/analysis/tsne.js';
import { loadMnist } from '../dist/src/data/mnist.js';
import { loadNative } from '../dist/src/backend/load_native.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    iterations: { type: 'string', default: '1000' },
    threads: { type: 'string' },
    theta: { type: 'string', default: '0.5' },
    seed: { type: 'string', default: '1' },
  },
});
const n = Number(values.n);
if (values.threads !== undefined) loadNative().setNumThreads(Number(values.threads));

const loadStart = performance.now();
const { test } = loadMnist();
console.log(`MNIST loaded in ${((performance.now() - loadStart) / 1000).toFixed(2)} s`);
if (!(n >= 4 && n <= test.n)) throw new RangeError(`--n: expected 4..${test.n}, got ${values.n}`);
const dims = 784;
const points = test.images.subarray(0, n * dims);

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const run = new TsneRun(points, n, dims, { iterations: Number(values.iterations), theta: Number(values.theta), seed: Number(values.seed) });
const t1 = performance.now();
while (!run.done) {
  const kl = run.step(250);
  console.log(`  iteration ${run.iteration}: KL ${kl.toFixed(4)} (${((performance.now() - t1) / 1000).toFixed(1)} s)`);
}
const t2 = performance.now();
const cpu = process.cpuUsage(cpu0);

// Fraction of each point's 10 nearest embedded neighbours that share its label (O(n^2), untimed).
const y = run.embedding;
let agree = 0;
const best = new Float64Array(10);
const bestAt = new Int32Array(10);
for (let i = 0; i < n; i++) {
  best.fill(Infinity);
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    const d = (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
    if (d >= best[9]) continue;
    let at = 9;
    for (; at > 0 && best[at - 1] > d; at--) { best[at] = best[at - 1]; bestAt[at] = bestAt[at - 1]; }
    best[at] = d;
    bestAt[at] = j;
  }
  for (const j of bestAt) if (test.labels[j] === test.labels[i]) agree++;
}

console.log(`t-SNE of ${n} MNIST test images (${dims} dims), ${run.iterations} iterations, theta ${run.options.theta}, ` +
  `perplexity ${run.options.perplexity}, ${loadNative().getNumThreads()} threads`);
console.log(`  affinities ${((t1 - t0) / 1000).toFixed(2)} s, descent ${((t2 - t1) / 1000).toFixed(2)} s, ` +
  `total ${((t2 - t0) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (user ${(cpu.user / 1e6).toFixed(2)} s)`);
console.log(`  final KL ${run.kl.toFixed(4)}, 10-NN label agreement in 2-D ${(agree / (10 * n)).toFixed(3)}`);
