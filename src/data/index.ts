export { DataError } from './errors.js';
export { parseIdx, readIdx, type IdxArray } from './idx.js';
export {
  loadMnist,
  loadIdxDataset,
  MNIST,
  type Split,
  type Dataset,
  type LoadOptions,
  type Normalization,
  type IdxDatasetSpec,
} from './mnist.js';
export { loadFashionMnist, FASHION_MNIST } from './fashion_mnist.js';
export {
  loadCifar,
  parseCifar,
  CIFAR10,
  CIFAR100,
  type CifarName,
  type CifarLabel,
  type CifarLayout,
  type CifarOptions,
  type CifarRecords,
} from './cifar.js';
export { CifarAugmentation, standardizeImages, type BatchAugmentation, type CifarAugmentOptions } from './augment.js';
export { loadDataset, hasAugmentation, DATASET_NAMES, type DatasetName, type DatasetOptions } from './datasets.js';
export { BatchIterator, epochOrder, type Batch, type BatchOptions } from './batches.js';
