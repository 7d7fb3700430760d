// Step-wise learning-rate schedules: the rate is base * the product of the factors of every
// milestone already passed. The AL paper's schedule is ×0.1 at 40 %, 60 % and 80 % of training
// and ×0.5 at 90 %.
export interface Milestone {
  /** fraction of the whole training (0..1) at which the factor starts to apply */
  at: number;
  factor: number;
}

export const paperSchedule: readonly Milestone[] = [
  { at: 0.4, factor: 0.1 },
  { at: 0.6, factor: 0.1 },
  { at: 0.8, factor: 0.1 },
  { at: 0.9, factor: 0.5 },
];

/** Learning rate for `epoch` (0-based) of `epochs`. */
export function scheduledLr(base: number, epoch: number, epochs: number, milestones: readonly Milestone[]): number {
  let lr = base;
  for (const m of milestones) if (epoch >= m.at * epochs) lr *= m.factor;
  return lr;
}
