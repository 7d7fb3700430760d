// Time to a target test accuracy from a run's evals.jsonl (al train --eval-every).
//
// The time is that of the first evaluation at or above the target (first crossing), on the run's
// training clock (seconds since its command started, evaluations left out: eval_schedule.ts). No
// interpolation between evaluations: test accuracy is noisy and not monotone, and a line drawn
// between two points would claim a moment nobody measured. The first crossing is what a run that
// checks every N steps observes, so it is an upper bound, late by at most one evaluation interval;
// `before` (the last evaluation below the target ahead of it) gives the lower end of that bracket.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVALS_FILE, type EvalRecord } from '../train/eval_schedule.js';
import { AnalysisError } from './errors.js';

export interface Crossing {
  /** training-clock seconds of the first evaluation at or above the target */
  seconds: number;
  step: number;
  epoch: number;
  testAccuracy: number;
  /** training-clock seconds of the evaluation before it (null: the first evaluation reached it) */
  before: number | null;
}

/**
 * The first of `records` (in the order written) whose test accuracy is at or above `target`
 * (a fraction); null when none is. The records must be on one clock: seconds never decrease.
 */
export function firstCrossing(records: readonly Pick<EvalRecord, 'seconds' | 'step' | 'epoch' | 'testAccuracy'>[], target: number): Crossing | null {
  if (!(target > 0 && target <= 1)) throw new RangeError(`firstCrossing: expected a target in (0, 1], got ${target}`);
  let before: number | null = null;
  for (const [i, r] of records.entries()) {
    if (i > 0 && r.seconds < records[i - 1]!.seconds) {
      throw new RangeError(`firstCrossing: record ${i + 1} (step ${r.step}) is at ${r.seconds} s, before the previous one (${records[i - 1]!.seconds} s): not one clock`);
    }
    if (r.testAccuracy >= target) return { seconds: r.seconds, step: r.step, epoch: r.epoch, testAccuracy: r.testAccuracy, before };
    before = r.seconds;
  }
  return null;
}

const NUMBERS: (keyof EvalRecord)[] = ['step', 'epoch', 'samples', 'seconds', 'wallSeconds', 'testAccuracy', 'evalSeconds', 'settleSeconds', 'startSeconds', 'firstEpoch'];

/**
 * The evaluations of a run directory, checked line by line. A run resumed (its clock restarted
 * with the new process) has lines of more than one process: refused, since their times do not
 * add up to one command's.
 */
export function readEvals(runDir: string): EvalRecord[] {
  const file = join(runDir, EVALS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AnalysisError(`${file}: cannot read the run's evaluations (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); al train --eval-every N writes them`);
  }
  const records = text.split('\n').filter((l) => l.trim() !== '').map((line, i): EvalRecord => {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new AnalysisError(`${file}: line ${i + 1}: not JSON`);
    }
    const bad = NUMBERS.find((k) => typeof (record as Record<string, unknown>)?.[k] !== 'number');
    if (bad !== undefined) throw new AnalysisError(`${file}: line ${i + 1}: expected a number for '${bad}', got ${JSON.stringify((record as Record<string, unknown>)?.[bad])}`);
    return record as EvalRecord;
  });
  const resumed = records.find((r) => r.firstEpoch !== 1);
  if (resumed) throw new AnalysisError(`${file}: the run was resumed at epoch ${resumed.firstEpoch}, so its clock restarted; time to accuracy needs a run made by one command`);
  return records;
}
