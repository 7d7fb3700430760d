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
export { BatchIterator, epochOrder, type Batch, type BatchOptions } from './batches.js';
