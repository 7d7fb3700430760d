// The library's public entry point.
export type { Backend } from './backend/kernel_names.js';
export { setBackend, backend, hasBackend } from './backend/backend.js';
export { referenceBackend } from './backend/reference_backend.js';
// The default backend; its addon loads when the first kernel runs, so importing works without it.
export { nativeBackend } from './backend/native_backend.js';
export * from './tensor/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './models/index.js';
export * from './data/index.js';
export { BpLearner, bpStep } from './train/bp_trainer.js';
export { runEpochs } from './train/loop.js';
export type { Learner, EpochMetrics, StepResult } from './train/loop.js';
export { CheckpointError, encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors } from './train/checkpoint.js';
export { saveTrainingCheckpoint, loadTrainingCheckpoint } from './run/resume.js';
export type { TrainingState } from './run/resume.js';
export * from './al/index.js';
export { evaluateAccuracy, predict, accuracy } from './train/evaluate.js';
// A run directory of `al train` loaded back for prediction.
export { loadRun, loadRunModel, SavedRun } from './run/saved_run.js';
export type { LoadRunOptions, PredictOptions, Prediction } from './run/saved_run.js';
export { readRunConfig, knownInput, loadRunDataset } from './run/run_config.js';
export type { RunConfig, RunInput } from './run/run_config.js';
export { buildTrainable } from './run/trainable.js';
export type { ModelConfig, Trainable } from './run/trainable.js';
// Loads the addon on first use only, so importing the library still works without it.
export { tsne, TsneRun } from './analysis/tsne.js';
export type { TsneOptions, TsneProgress, JointP } from './analysis/tsne.js';

/**
 * The oneDNN backend with its addon loaded now rather than at the first kernel: throws, with the
 * paths tried and the fix, if the addon is missing. Loading builds nothing.
 */
export async function loadNativeBackend(): Promise<import('./backend/kernel_names.js').Backend> {
  (await import('./backend/load_native.js')).loadNative();
  return (await import('./backend/native_backend.js')).nativeBackend;
}
