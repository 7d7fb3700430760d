// `al reproduce TABLE --project`: time per epoch and for the table's budget, projected from a few
// timed training steps of each experiment on random data in CIFAR's shape, so a table can be
// planned (and the machine judged) before the real data is at hand. Each experiment is built
// from the same al train settings the table would run, resolved defaults included.
import { availableParallelism, loadavg } from 'node:os';
import { cpuShare, epochSeconds, PROJECTION_TIMING, timeSteps, type StepTiming } from '../../bench/epoch_time.js';
import { CifarAugmentation } from '../../data/augment.js';
import { CIFAR_CHANNELS, CIFAR_SIDE, cifarLabels } from '../../data/cifar.js';
import { Rng } from '../../tensor/rng.js';
import { buildTrainable } from '../../run/trainable.js';
import { formatDuration } from '../progress.js';
import { useNativeBackend } from '../runtime.js';
import { table } from './analyze_text.js';
import { experimentConfig, type Experiment } from './reproduce_tables.js';

/** The full CIFAR splits: 50,000 training and 10,000 test images, both datasets. */
export const CIFAR_TRAIN = 50_000;
export const CIFAR_TEST = 10_000;

export interface Projection {
  name: string;
  epochs: number;
  batch: number;
  threads: number;
  steps: number;
  timedSeconds: number;
  trainSamplesPerSec: number;
  evalSamplesPerSec: number;
  /** one epoch: the training set at the training rate, the test set at the evaluation rate */
  epochSeconds: number;
  /** every epoch of the experiment's budget */
  budgetSeconds: number;
  /** the share of its threads' cores the timing had (cpuShare): below 1, other jobs took the rest */
  cpuShare: number;
}

/** Times each experiment in turn; `log` gets a line as each one finishes. */
export async function project(list: Experiment[], trainSamples: number, steps: number | undefined, log: (line: string) => void): Promise<Projection[]> {
  const shape: [number, number, number] = [CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS];
  const out: Projection[] = [];
  for (const e of list) {
    const config = experimentConfig(e);
    const backend = await useNativeBackend(config.threads);
    const dataset = config.dataset;
    if (dataset !== 'cifar10' && dataset !== 'cifar100') throw new RangeError(`project: ${e.name} is not a CIFAR run (dataset ${String(dataset)})`);
    const { classes } = cifarLabels(dataset, config.label);
    const model = buildTrainable(config, shape, classes, new Rng(config.seed));
    const augment = config.augment ? new CifarAugmentation(shape) : undefined;
    const timing: StepTiming = timeSteps(model.learner, shape, classes, augment, {
      ...PROJECTION_TIMING, batch: config.batch, seed: config.seed, ...(steps !== undefined ? { minSteps: steps, maxSteps: steps } : {}),
    });
    const perEpoch = epochSeconds(timing, trainSamples, CIFAR_TEST);
    const threads = backend.getNumThreads();
    const share = cpuShare(timing, threads);
    const p: Projection = {
      name: e.name, epochs: e.epochs, batch: config.batch, threads, steps: timing.steps, timedSeconds: timing.seconds,
      trainSamplesPerSec: timing.trainSamplesPerSec, evalSamplesPerSec: timing.evalSamplesPerSec, epochSeconds: perEpoch, budgetSeconds: perEpoch * e.epochs,
      cpuShare: share,
    };
    log(`  ${e.name}: ${p.steps} steps of ${p.batch} in ${p.timedSeconds.toFixed(1)} s, ${Math.round(p.trainSamplesPerSec)} samples/s, ${Math.round(100 * share)}% of ${threads} cores`);
    out.push(p);
  }
  return out;
}

/** h:mm:ss, and days beyond one. */
function duration(seconds: number): string {
  return seconds >= 86_400 ? `${formatDuration(seconds)} (${(seconds / 86_400).toFixed(1)} d)` : formatDuration(seconds);
}

/** Below this CPU share the timing says more about the other jobs than about the runs. */
const BUSY_SHARE = 0.8;

export function projectionText(rows: Projection[], trainSamples: number): string[] {
  const total = rows.reduce((s, r) => s + r.budgetSeconds, 0);
  const busy = rows.filter((r) => r.cpuShare < BUSY_SHARE);
  return [
    `Projected from timed steps on random CIFAR-shaped data (augmentation included), for ${trainSamples.toLocaleString('en-US')} training and ${CIFAR_TEST.toLocaleString('en-US')} test images an epoch:`,
    ...table(['run', 'batch', 'threads', 'steps', 'train samples/s', 'test samples/s', 'CPU share', 'time per epoch', 'epochs', 'time for the budget'],
      rows.map((r) => [r.name, `${r.batch}`, `${r.threads}`, `${r.steps}`, `${Math.round(r.trainSamplesPerSec)}`, `${Math.round(r.evalSamplesPerSec)}`,
        `${Math.round(100 * r.cpuShare)}%`, formatDuration(r.epochSeconds), `${r.epochs}`, duration(r.budgetSeconds)])),
    `  all ${rows.length} runs: ${duration(total)}`,
    '  CPU share: the process\'s CPU time over wall time x threads while timing (100 %: it had its cores to itself)',
    ...(busy.length > 0
      ? [`  the machine was busy (load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores): ${busy.map((r) => r.name).join(', ')} had under ${100 * BUSY_SHARE} % of their`,
        '  cores, so their times are the loaded machine\'s, longer than an idle one\'s; time again when it is quiet']
      : []),
  ];
}
