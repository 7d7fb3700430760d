export { Optimizer, ConfigError } from './optimizer.js';
export type { OptimizerState } from './optimizer.js';
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { SGD } from './sgd.js';
export type { SgdOptions } from './sgd.js';
export { paperSchedule, scheduledLr } from './schedule.js';
export type { Milestone } from './schedule.js';
