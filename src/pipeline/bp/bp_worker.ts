// A stage of pipelined BP in a worker thread: the shared BP stage loop over the worker's ports.
import { runBpStage } from './bp_stage_loop.js';
import { StageRuntime, workerLinks } from '../runtime/stage_runtime.js';

runBpStage(new StageRuntime(workerLinks()));
