export { ALLayer, ALDivergenceError } from './al_layer.js';
export type { ALParts, ALOptimizerOptions, LayerLosses } from './al_layer.js';
export { AssociatedNet, ALConfigError, oneHot } from './associated_net.js';
export { ALLearner, predictAL } from './al_learner.js';
export { AL_DEFAULT_LR, buildAssociatedNet, defaultALLayers, defaultTWidth, maxALLayers } from './decompositions.js';
export type { ALNetSpec } from './decompositions.js';
