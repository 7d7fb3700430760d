import type { Sequential } from '../nn/container.js';
import { ModelError, type ModelSpec } from './common.js';
import { buildMlp } from './mlp.js';
import { buildResnet } from './resnet.js';
import { buildVanillaCnn } from './vanilla_cnn.js';
import { buildVgg } from './vgg.js';

export const MODEL_NAMES = ['mlp', 'cnn', 'vgg', 'resnet20', 'resnet32'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export function buildModel(name: ModelName, spec: ModelSpec): Sequential {
  switch (name) {
    case 'mlp': return buildMlp(spec);
    case 'cnn': return buildVanillaCnn(spec);
    case 'vgg': return buildVgg(spec);
    case 'resnet20': return buildResnet(spec, 20);
    case 'resnet32': return buildResnet(spec, 32);
    default: throw new ModelError(`model: expected one of ${MODEL_NAMES.join(', ')}, got ${String(name)}`);
  }
}

export { ModelError } from './common.js';
export type { ModelSpec } from './common.js';
export { buildMlp, buildVanillaCnn, buildVgg, buildResnet };
