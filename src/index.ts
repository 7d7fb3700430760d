// The library's public entry point.
export type { Backend } from './backend/kernel_names.js';
export { setBackend, backend } from './backend/backend.js';
export { referenceBackend } from './backend/reference_backend.js';
export * from './tensor/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './models/index.js';
export * from './data/index.js';
export { BpLearner, bpStep } from './train/bp_trainer.js';
export { runEpochs } from './train/loop.js';
export type { Learner, EpochMetrics, StepResult } from './train/loop.js';
export { CheckpointError, encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors } from './train/checkpoint.js';
export { saveTrainingCheckpoint, loadTrainingCheckpoint } from './train/resume.js';
export type { TrainingState } from './train/resume.js';
export * from './al/index.js';
export { evaluateAccuracy, predict, accuracy } from './train/evaluate.js';
// Loads the addon on first use only, so importing the library still works without it.
export { tsne, TsneRun } from './analysis/tsne.js';
export type { TsneOptions, TsneProgress, JointP } from './analysis/tsne.js';

/** The oneDNN backend; loading it builds nothing and throws with the fix if the addon is missing. */
export async function loadNativeBackend(): Promise<import('./backend/kernel_names.js').Backend> {
  return (await import('./backend/native_backend.js')).nativeBackend;
}
