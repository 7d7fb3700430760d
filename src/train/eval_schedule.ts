// Test evaluations between training steps (al train --eval-every, --until-accuracy,
// --max-seconds), so that methods of different speeds are compared on the clock: evals.jsonl gets
// a line per evaluation with the test accuracy and the run's training clock at that point.
//
// The training clock is the wall time since the process started (performance.now(), so start-up
// counts: loading the data, building the net, planning and starting the stages) minus the time
// spent evaluating the test set, which is left out for every method alike. What a method must do
// before it can be evaluated is counted; each line says how much of its clock that was
// (settleSeconds). Pipelined AL marks the batch to evaluate after and gets a copy of what
// prediction reads from each stage once it has trained on it; the stages hold K-1 batches later,
// as deep in the pipeline as in its steady state, and wait while the coordinator evaluates, as a
// sequential method does (al_pipeline.ts, snapshot). The pipelined BP methods drain and collect.
// Evaluations at an epoch's end (the loop's own) are timed, left out and recorded the same way.
//
// A resumed run drops the lines past its checkpoint, as metrics.jsonl does, and its clock starts
// again with the new process: firstEpoch tells the lines of one process from another's.
import { appendFileSync } from 'node:fs';
import type { Split } from '../data/dataset.js';
import type { LoopOptions, StepPoint } from './loop.js';
import type { RunDir } from './run_dir.js';

export const EVALS_FILE = 'evals.jsonl';

export interface EvalRecord {
  /** steps (batches) trained since the run began */
  step: number;
  /** the 1-based epoch in progress */
  epoch: number;
  /** training samples since the run began */
  samples: number;
  /** the training clock when the evaluation began: seconds since the process started, evaluations left out */
  seconds: number;
  /** seconds since the process started, evaluations included */
  wallSeconds: number;
  testAccuracy: number;
  /** seconds of every evaluation so far, this one included: the difference between the two clocks after it */
  evalSeconds: number;
  /** seconds spent so far bringing the model to a state that can be evaluated (pipelined: a snapshot's wait, or a drain and collect); counted in seconds */
  settleSeconds: number;
  /** the training clock when the first step of this process began: the start-up */
  startSeconds: number;
  /** the 1-based epoch this process started training with (above 1: a resumed run, whose clock restarted) */
  firstEpoch: number;
}

export type StopReason = 'target' | 'time';

/** How the evaluations of a run ended. */
export interface EvalSummary {
  evaluations: number;
  stop: StopReason | null;
  reached: EvalRecord | null;
  last: EvalRecord | null;
}

export interface EvalScheduleOptions {
  /** evaluate after every `every` steps; undefined: at the epochs' ends only */
  every?: number | undefined;
  /** stop once a test accuracy (a fraction) reaches this */
  untilAccuracy?: number | undefined;
  /** stop once the training clock passes this many seconds (after one more evaluation) */
  maxSeconds?: number | undefined;
  /** the 1-based epoch training starts with in this process */
  firstEpoch: number;
  /** the test split and how the model as it stands scores on it */
  test: Split;
  evaluate: (split: Split) => number;
  /** milliseconds since the process started (default performance.now) */
  clock?: () => number;
  /** where the lines go */
  write: (line: string) => void;
}

export class EvalSchedule {
  private readonly clock: () => number;
  /** ms of evaluations, left out of the training clock */
  private pausedMs = 0;
  private settleMs = 0;
  private startMs = Number.NaN;
  private at: StepPoint | null = null;
  private last: EvalRecord | null = null;
  private count = 0;
  /** why the run should stop (null: it should not) */
  stopReason: StopReason | null = null;
  /** the first evaluation at or above untilAccuracy */
  reached: EvalRecord | null = null;

  constructor(private readonly options: EvalScheduleOptions) {
    const { every, untilAccuracy, maxSeconds } = options;
    if (every !== undefined && (!Number.isInteger(every) || every < 1)) throw new RangeError(`EvalSchedule: every: expected an integer >= 1, got ${every}`);
    if (untilAccuracy !== undefined && !(untilAccuracy > 0 && untilAccuracy <= 1)) throw new RangeError(`EvalSchedule: untilAccuracy: expected a fraction in (0, 1], got ${untilAccuracy}`);
    if (maxSeconds !== undefined && !(maxSeconds > 0)) throw new RangeError(`EvalSchedule: maxSeconds: expected a number > 0, got ${maxSeconds}`);
    this.clock = options.clock ?? (() => performance.now());
  }

  /** The schedule of a run: its evals.jsonl keeps the lines of the epochs before `startEpoch` (0-based) only. */
  static open(run: RunDir, startEpoch: number, options: Omit<EvalScheduleOptions, 'write' | 'firstEpoch'>): EvalSchedule {
    run.trimLines(EVALS_FILE, startEpoch);
    const file = run.file(EVALS_FILE);
    return new EvalSchedule({ ...options, firstEpoch: startEpoch + 1, write: (line) => appendFileSync(file, line) });
  }

  /** Seconds on the training clock now. */
  trainingSeconds(): number {
    return (this.clock() - this.pausedMs) / 1000;
  }

  get done(): boolean {
    return this.stopReason !== null;
  }

  /** The loop's hooks: afterStep, and testAccuracy for the epochs' own evaluations. */
  loopOptions(): Required<Pick<LoopOptions, 'afterStep' | 'evaluatesAfter' | 'testAccuracy'>> {
    return { afterStep: (at, settle) => this.afterStep(at, settle), evaluatesAfter: (step) => this.due(step), testAccuracy: (split) => this.testAccuracy(split) };
  }

  /** Pass each BatchProgress: the first one tells when training began (its seconds run from the epoch's start). */
  onBatch(p: { seconds: number }): void {
    if (Number.isNaN(this.startMs)) this.startMs = this.clock() - this.pausedMs - 1000 * p.seconds;
  }

  /** Whether the step is due for an evaluation by its number (every `every` steps); the time budget aside. */
  due(step: number): boolean {
    const every = this.options.every;
    return every !== undefined && step % every === 0;
  }

  /** Evaluates when a step is due (or the time budget is spent); resolves to the evaluation's milliseconds, which the loop leaves out of the epoch's time. */
  async afterStep(at: StepPoint, settle: () => Promise<void>): Promise<number> {
    this.at = at;
    const due = this.due(at.step);
    const over = this.options.maxSeconds !== undefined && this.trainingSeconds() >= this.options.maxSeconds;
    if (!due && !over) return 0;
    const begin = this.clock();
    await settle();
    this.settleMs += this.clock() - begin;
    const before = this.pausedMs;
    this.evaluateNow();
    if (over) this.stopReason ??= 'time';
    return this.pausedMs - before;
  }

  /** Test accuracy of the test split at the current step, evaluated once per step; other splits are passed through. */
  testAccuracy(split: Split): number {
    return split === this.options.test ? this.evaluateNow() : this.options.evaluate(split);
  }

  private evaluateNow(): number {
    const at = this.at;
    if (at === null) return this.options.evaluate(this.options.test);
    if (this.last !== null && this.last.step === at.step) return this.last.testAccuracy;
    const begin = this.clock();
    const accuracy = this.options.evaluate(this.options.test);
    const end = this.clock();
    const seconds = (begin - this.pausedMs) / 1000;
    this.pausedMs += end - begin;
    this.count++;
    const record: EvalRecord = {
      step: at.step, epoch: at.epoch + 1, samples: at.samples, seconds, wallSeconds: begin / 1000, testAccuracy: accuracy,
      evalSeconds: this.pausedMs / 1000, settleSeconds: this.settleMs / 1000,
      startSeconds: Number.isNaN(this.startMs) ? 0 : this.startMs / 1000, firstEpoch: this.options.firstEpoch,
    };
    this.options.write(JSON.stringify(record) + '\n');
    this.last = record;
    const target = this.options.untilAccuracy;
    if (target !== undefined && accuracy >= target && this.reached === null) {
      this.reached = record;
      this.stopReason ??= 'target';
    }
    return accuracy;
  }

  /** For --json: how the evaluations ended. */
  summary(): EvalSummary {
    return { evaluations: this.count, stop: this.stopReason, reached: this.reached, last: this.last };
  }

  /** The log's last line when the schedule ended the run; null when it did not. */
  stopLine(): string | null {
    const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
    const left = `${this.count} evaluation${this.count === 1 ? '' : 's'}, ${(this.pausedMs / 1000).toFixed(1)} s, left out`;
    if (this.stopReason === 'target' && this.reached) {
      const r = this.reached;
      return `reached ${pct(r.testAccuracy)} test accuracy (target ${pct(this.options.untilAccuracy!)}) at step ${r.step}, epoch ${r.epoch}, after ${r.seconds.toFixed(1)} s on the training clock (start-up ${r.startSeconds.toFixed(1)} s; ${left}): stopped`;
    }
    if (this.stopReason === 'time' && this.last) {
      const r = this.last;
      return `the time budget of ${this.options.maxSeconds} s ran out at step ${r.step}, epoch ${r.epoch}: test accuracy ${pct(r.testAccuracy)} after ${r.seconds.toFixed(1)} s on the training clock (${left}): stopped`;
    }
    return null;
  }
}
