// A stage of pipelined AL in a worker thread: the shared AL stage loop over the worker's ports.
import { runALStage } from './al_stage_loop.js';
import { StageRuntime, workerLinks } from '../runtime/stage_runtime.js';

export { InjectedFault } from './al_stage_loop.js';

runALStage(new StageRuntime(workerLinks()));
