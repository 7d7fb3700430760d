// al train's flags for test evaluations between steps and the stops they allow (--eval-every,
// --until-accuracy, --max-seconds): parsed here, run by train/eval_schedule.ts through run/train_run.ts.
import type { EvalSettings } from '../run/train_config.js';
import { optionalInt, str, type FlagSpec, type Parsed } from './args.js';
import { UsageError } from './errors.js';

export const EVAL_FLAGS: FlagSpec = { 'eval-every': { type: 'string' }, 'until-accuracy': { type: 'string' }, 'max-seconds': { type: 'string' } };

export const EVAL_USAGE = `  --eval-every N       also evaluate the test set every N steps (batches) and write evals.jsonl: a
                       line per evaluation (those at the epochs' ends too) with the step, epoch,
                       test accuracy and the training clock: seconds since the command started
                       (start-up counts), evaluations left out. A pipelined method's wait for a
                       consistent model (AL: its stages' snapshots, no drain; BP: a drain) is
                       counted (settleSeconds)
  --until-accuracy PCT stop once a test evaluation reaches PCT percent (at --eval-every steps and
                       epochs' ends); exit 0. The unfinished epoch is not saved
  --max-seconds S      stop once the training clock passes S seconds, after one more evaluation
`;

/** The flag of each setting, for the checks of a resumed run's config.json (train.ts SAVED_FLAGS). */
export const SAVED_EVAL_FLAGS: [key: string, flag: string, type: 'number'][] = [
  ['evalEvery', 'eval-every', 'number'], ['untilAccuracy', 'until-accuracy', 'number'], ['maxSeconds', 'max-seconds', 'number'],
];

function positive(values: Parsed['values'], flag: string, max: number, what: string): number | undefined {
  const text = str(values, flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > max) throw new UsageError(`--${flag}: expected ${what}, got '${text}'`);
  return value;
}

export function parseEvalFlags(values: Parsed['values']): EvalSettings {
  return {
    evalEvery: optionalInt(values, 'eval-every'),
    untilAccuracy: positive(values, 'until-accuracy', 100, 'a test accuracy in percent, above 0 and at most 100'),
    maxSeconds: positive(values, 'max-seconds', Number.MAX_VALUE, 'a number of seconds > 0'),
  };
}
