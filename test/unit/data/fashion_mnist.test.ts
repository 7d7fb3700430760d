// Fashion-MNIST: the spec (MNIST's layout, gzipped files as Debian installs them), the missing-data
// message, and the real files of Debian's dataset-fashion-mnist when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../../src/data/errors.js';
import { FASHION_MNIST, FASHION_MNIST_DEBIAN_DIR, loadFashionMnist } from '../../../src/data/fashion_mnist.js';
import { idxBytes } from '../../util/idx_files.js';
import { tempDir } from '../../util/temp_dir.js';

const root = tempDir('al-fashion-');

test('gzipped files in MNIST layout load with Fashion-MNIST\'s statistics', () => {
  const d = path.join(root, 'gz');
  fs.mkdirSync(d);
  const images = (n: number) => idxBytes([n, 28, 28], Array.from({ length: n * 784 }, (_, k) => (k * 13) % 256));
  fs.writeFileSync(path.join(d, 'train-images-idx3-ubyte.gz'), gzipSync(images(3)));
  fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte.gz'), gzipSync(idxBytes([3], [9, 0, 3])));
  // A plain file next to gzipped ones is fine too.
  fs.writeFileSync(path.join(d, 't10k-images-idx3-ubyte'), images(2));
  fs.writeFileSync(path.join(d, 't10k-labels-idx1-ubyte.gz'), gzipSync(idxBytes([2], [1, 2])));
  const { train, test: t } = loadFashionMnist({ dataDir: d });
  assert.equal(train.n, 3);
  assert.deepEqual(train.shape, [28, 28, 1]);
  assert.deepEqual([...train.labels], [9, 0, 3]);
  assert.deepEqual([...t.labels], [1, 2]);
  const standard = (v: number): number => Math.fround((v / 255 - FASHION_MNIST.mean) / FASHION_MNIST.std);
  assert.equal(train.images[5], standard((5 * 13) % 256));
  assert.equal(t.images[784 + 1], standard(((784 + 1) * 13) % 256));
  // A label out of range inside a gzipped file names the .gz file.
  fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte.gz'), gzipSync(idxBytes([3], [9, 10, 3])));
  assert.throws(() => loadFashionMnist({ dataDir: d }), (e: unknown) => e instanceof DataError &&
    e.file === path.join(d, 'train-labels-idx1-ubyte.gz') && /label at index 1 out of range: expected 0..9, got 10/.test(e.message));
});

test('a missing folder says how to install the data', () => {
  const missing = path.join(root, 'nowhere');
  assert.throws(() => loadFashionMnist({ dataDir: missing }), (e: unknown) => e instanceof DataError && e.file === missing &&
    /folder not found: .*apt-get install dataset-fashion-mnist.*scripts\/setup\.sh.*--data-dir/.test(e.message));
});

const installed = fs.existsSync(path.join(FASHION_MNIST_DEBIAN_DIR, 'train-images-idx3-ubyte.gz'));

test('the real files of Debian\'s dataset-fashion-mnist', { skip: !installed && 'dataset-fashion-mnist is not installed (bash scripts/setup.sh installs it)' }, () => {
  const { train, test: t } = loadFashionMnist({ limit: 60000 });
  assert.equal(train.n, 60000);
  assert.equal(t.n, 10000);
  assert.equal(train.classes, 10);
  assert.deepEqual([...train.labels.subarray(0, 10)], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
  // Balanced classes: 6,000 training and 1,000 test images each.
  for (const [split, each] of [[train, 6000], [t, 1000]] as const) {
    const counts = new Array(10).fill(0);
    for (const l of split.labels) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(each));
  }
  // The spec's statistics are those of these files: standardised pixels have mean 0 and std 1.
  let sum = 0, squares = 0;
  for (const v of train.images) {
    sum += v;
    squares += v * v;
  }
  const mean = sum / train.images.length;
  assert.ok(Math.abs(mean) < 1e-3, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(squares / train.images.length - mean * mean) - 1) < 1e-3);
});
