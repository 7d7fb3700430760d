export { DataError } from './errors.js';
export type { Dataset, Split } from './dataset.js';
export { parseIdx, readIdx, type IdxArray } from './idx.js';
export { parseNpy, readNpy, type NpyArray, type NpyType } from './npy.js';
export { parseCsv, type CsvTable } from './csv.js';
export { loadNpyDataset, loadCsvDataset, MAX_CLASSES, NPY_FILES, CSV_FILES, type TabularOptions } from './tabular.js';
export {
  loadMnist,
  loadIdxDataset,
  MNIST,
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
export { loadDataset, hasAugmentation, needsDataDir, DATASET_NAMES, type DatasetName, type DatasetOptions } from './datasets.js';
export { BatchIterator, epochOrder, type Batch, type BatchOptions } from './batches.js';
