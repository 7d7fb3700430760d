// The model builder moved to src/run/trainable.ts, below the CLI, for the library's loadRun;
// this re-export keeps the commands that import it from here compiling.
export { buildTrainable, type ModelConfig, type Trainable } from '../run/trainable.js';
