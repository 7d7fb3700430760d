// The in-memory form every loader (IDX, CIFAR, npy, CSV) returns and every trainer takes: a
// training and a test split, and the training augmentation where the dataset has one.
import type { BatchAugmentation } from './augment.js';

/** A labelled set of images in memory. */
export interface Split {
  /** [n, height, width, channels] (NHWC), row-major. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
  /** Shape of one sample: [height, width, channels]; [1, 1, features] for tabular data. */
  shape: [number, number, number];
  classes: number;
  /** The samples are feature vectors, not images: only a network that flattens its input (the MLP) takes them. */
  tabular?: boolean;
}

export interface Dataset {
  train: Split;
  test: Split;
  /**
   * Training-time augmentation, when the dataset has one and it is on. train.images are then its
   * input (not yet ready for the network) and every training batch must go through it; the test
   * split is always ready as it is.
   */
  augment?: BatchAugmentation;
}
