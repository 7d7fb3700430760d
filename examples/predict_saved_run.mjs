// A run trained with the `al` command line, loaded back with the library's loadRun and used for
// prediction: a BP run, and an AL run predicting from each of its exit layers.
//
//   node examples/predict_saved_run.mjs [DIR]
//
// Trains two small MNIST runs (a few seconds each) into DIR, or into a temporary directory that
// is removed at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadRun } from 'associated-learning';

const al = join(dirname(createRequire(import.meta.url).resolve('associated-learning/package.json')), 'bin', 'al.js');
const keep = process.argv[2];
const dir = keep ?? mkdtempSync(join(tmpdir(), 'al-example-'));

/** `al train` with these flags into DIR/name; its output is shown if it fails. */
function train(name, flags) {
  const r = spawnSync(process.execPath, [al, 'train', ...flags, '--dataset', 'mnist', '--threads', '1', '--json', '--out', join(dir, name)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`al train ${flags.join(' ')} failed:\n${r.stderr}`);
}

try {
  train('bp', ['--model', 'mlp', '--method', 'bp', '--limit', '1000', '--epochs', '1', '--batch', '32', '--schedule', 'constant']);
  train('al', ['--model', 'mlp', '--method', 'al', '--al-layers', '3', '--t-width', '64', '--limit', '4000', '--epochs', '3', '--batch', '32', '--schedule', 'constant', '--lr', '3e-3']);

  for (const name of ['bp', 'al']) {
    const run = loadRun(join(dir, name));      // config.json + checkpoint.safetensors
    console.log(String(run));
    // the run's test split, prepared as training prepared its data; predict takes such samples
    const test = run.testData();
    const n = 1000, x = test.images.subarray(0, n * test.images.length / test.n);
    for (const exit of run.depth === 0 ? [undefined] : Array.from({ length: run.depth }, (_, k) => k + 1)) {
      const { labels } = run.predict(x, exit === undefined ? {} : { exit });
      const right = labels.filter((label, i) => label === test.labels[i]).length;
      const where = exit === undefined ? 'network' : `exit ${exit}`;
      console.log(`${name} ${where}: first labels ${Array.from(labels.subarray(0, 10)).join(' ')}; ` +
        `${(100 * right / n).toFixed(2)}% of ${n} test images, ${(100 * run.accuracy(test, exit === undefined ? {} : { exit })).toFixed(2)}% of all ${test.n}`);
    }
  }
} finally {
  if (keep === undefined) rmSync(dir, { recursive: true, force: true });
}
