// The pipeline engine, by concern (docs/design.md, "Pipeline"):
//   runtime/  what every stage and coordinator shares: transports, frames, the stage runtime,
//             the stage group, the stage server and the epoch loop
//   al/       pipelined AL: its stage, stage loop, coordinator and worker
//   bp/       the pipelined BP baselines (GPipe, naive): their stage, stage loop, coordinator and worker
//   plan/     planning without running: stage balance, throughput projection, the schedule simulator
import { runALStage } from './al/al_stage_loop.js';
import { runBpStage } from './bp/bp_stage_loop.js';
import type { StageProgram } from './runtime/stage_server.js';

export { ALPipeline, type ALPipelineOptions } from './al/al_pipeline.js';
export { BpPipeline, type BpPipelineOptions } from './bp/bp_pipeline.js';
export type { BpPipelineMethod } from './bp/bp_stage.js';
export { PipelineError, type BatchDone, type PipelineEngine } from './runtime/stage_group.js';
export { pipelineDriver, runPipelinedEpochs, type PipelineDriverOptions, type PipelinedEpochMetrics, type PipelinedLoopOptions } from './runtime/run_pipelined.js';
export { startLocalStages, type LocalStages } from './runtime/local_stages.js';
export type { ALNetBlueprint, ALNetModule, ALStageNet } from './runtime/messages.js';
export { linearStages, measureLayerCosts, measureModulePhases, planStages } from './plan/balance.js';
export { linearPartition, projectAl, projectBp, projectGpipe, projectThroughput } from './plan/projection.js';
export { SCHEDULES, simulate, type Schedule, type ScheduleName, type SimulateOptions } from './plan/simulator.js';
export { utilisation, type GanttInterval } from './plan/utilisation.js';
export { StageServer, type StageProgram, type StageServerOptions } from './runtime/stage_server.js';

/** The stage programs a stage process serves, by the name a coordinator's init gives (StageGroup.attach). */
export const STAGE_PROGRAMS: Readonly<Record<'al' | 'bp', StageProgram>> = { al: runALStage, bp: runBpStage };
