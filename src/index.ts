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
/** The epoch loop: runEpochs for a sequential learner (BpLearner, ALLearner), runStepLoop for any step driver. */
export { runEpochs, runStepLoop, learnerDriver } from './train/loop.js';
export type { Learner, EpochMetrics, StepResult, StepDriver, BatchOutcome, BatchProgress, LoopOptions } from './train/loop.js';
export { CheckpointError, encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors } from './train/checkpoint.js';
export { saveTrainingCheckpoint, loadTrainingCheckpoint } from './run/resume.js';
export type { TrainingState } from './run/resume.js';
/** Associated Learning: ALLayer {f, b, g, h}, AssociatedNet, the ALLearner of the epoch loop, the built-in backbones. */
export * from './al/index.js';
/**
 * Pipelined training. ALPipeline runs an AL net's layers as stages on worker threads (or stage
 * processes): a built-in backbone's blueprint, or a net of your own layers given as the module
 * that builds it (ALNetModule). BpPipeline runs GPipe and naive pipelined BP. runPipelinedEpochs
 * trains either through the same epoch loop as runEpochs.
 */
export { ALPipeline, BpPipeline, PipelineError, runPipelinedEpochs, pipelineDriver, startLocalStages, planStages, linearStages } from './pipeline/index.js';
export type {
  ALPipelineOptions, BpPipelineOptions, BpPipelineMethod, PipelineEngine, PipelinedEpochMetrics, PipelinedLoopOptions,
  ALNetBlueprint, ALNetModule, ALStageNet, LocalStages,
} from './pipeline/index.js';
/**
 * A training run as `al train` does it, as a call: train(trainConfig({ ... })) loads the data,
 * builds the model, trains by any method and placement, and writes the run directory.
 */
export { train } from './run/train_run.js';
export type { TrainHooks, TrainResult, RunEpochMetrics } from './run/train_run.js';
export { trainConfig, readTrainConfig, DATASETS, METHODS } from './run/train_config.js';
export type { TrainConfig } from './run/train_config.js';
export { RunConfigError } from './run/errors.js';
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
