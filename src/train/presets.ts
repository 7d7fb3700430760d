// The training settings of Kao & Chen's public code (GitHub SamYWK/Associated_Learning: one
// main.py and models.py per dataset, TensorFlow 1), for `al train --preset authors`. Each value
// is what their code does; docs/fidelity.md lists where our defaults differ and why.
//
//   Adam, batch 32, 200 epochs, no shuffling (their input pipeline repeats the dataset in its
//   stored order), lr ×0.1 at 40/60/80 % and ×0.5 at 90 % of training;
//   lr 1e-4, except 1e-3 for the BP ResNets; AL's g and h at 2·lr;
//   L2 on kernels only (never biases, batch norm, nor AL's bridges, g and h): BP ResNet 1e-4
//   (5e-4 on CIFAR-100) on every conv and dense kernel; BP VGG 5e-4 on the conv kernels (its
//   dense layers receive the regulariser in the use_bias position, so they get none); ResNet-AL
//   1e-4 on f's kernels; VGG-AL 1e-5 on f's conv kernels (the same slip spares its dense f);
//   MLP and Vanilla CNN none;
//   MNIST: x/255 minus the mean training image; CIFAR: the same, then per-image standardisation
//   after their augmentation (our CIFAR loader's default);
//   the networks as their code builds them (models' and decompositions' variant 'authors').
//
// Their code covers MNIST (MLP, CNN) and CIFAR-10/100 (all five). A model they ran on CIFAR only
// keeps its CIFAR-10 settings on MNIST-format data, and Fashion-MNIST takes MNIST's data settings.
import type { DatasetName } from '../data/datasets.js';
import type { Normalization } from '../data/mnist.js';
import type { ModelName } from '../models/index.js';
import type { DecayScope } from '../nn/kernels.js';

export const PRESET_NAMES = ['authors'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface PresetSettings {
  optimizer: 'adam';
  lr: number;
  batch: number;
  epochs: number;
  schedule: 'paper';
  weightDecay: number;
  decayOn: DecayScope;
  /** false: every epoch in the stored order */
  shuffle: boolean;
  /** MNIST-format data; undefined for CIFAR, whose preparation is already the authors' */
  normalize: Normalization | undefined;
  /** CIFAR's training augmentation (undefined for the datasets without one) */
  augment: boolean | undefined;
  variant: 'authors';
}

/** The authors' settings for `model` trained by `method` on `dataset`. */
export function authorsSettings(model: ModelName, dataset: DatasetName, method: 'bp' | 'al'): PresetSettings {
  const cifar = dataset === 'cifar10' || dataset === 'cifar100';
  const resnet = model === 'resnet20' || model === 'resnet32';
  let weightDecay = 0;
  let decayOn: DecayScope = 'kernels';
  if (resnet) weightDecay = method === 'bp' && dataset === 'cifar100' ? 5e-4 : 1e-4;
  if (model === 'vgg') {
    weightDecay = method === 'bp' ? 5e-4 : 1e-5;
    decayOn = 'conv-kernels';
  }
  return {
    optimizer: 'adam',
    lr: resnet && method === 'bp' ? 1e-3 : 1e-4,
    batch: 32,
    epochs: 200,
    schedule: 'paper',
    weightDecay,
    decayOn,
    shuffle: false,
    // a user's own npy/csv data is used as the files hold it
    normalize: cifar || dataset === 'npy' || dataset === 'csv' ? undefined : 'mean-image',
    augment: cifar ? true : undefined,
    variant: 'authors',
  };
}
