// `al train`: see shared/cli-contract.md. This version trains with --method bp and --method al
// (sequential); the pipelined methods arrive with their own issue and are refused until then.
import { availableParallelism } from 'node:os';
import { defaultALLayers, maxALLayers } from '../../al/decompositions.js';
import { loadMnist, type Dataset } from '../../data/index.js';
import { MODEL_NAMES } from '../../models/index.js';
import { Rng } from '../../tensor/rng.js';
import { runEpochs, type EpochMetrics } from '../../train/loop.js';
import { saveTrainingCheckpoint } from '../../train/resume.js';
import { defaultRunPath } from '../../train/run_dir.js';
import { buildTrainable, type ModelConfig } from '../learners.js';
import { openRun, resumeConfig, runIdentity } from '../resume.js';
import { choice, int, num, optionalInt, parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { machineInfo, useNativeBackend } from '../runtime.js';

export const DATASETS = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100'] as const;
export const METHODS = ['bp', 'al', 'gpipe', 'naive-pipeline'] as const;

export const trainUsage = `Usage: al train --model mlp|cnn|vgg|resnet20|resnet32 --dataset mnist [options]

Trains a network and writes a run directory: config.json, metrics.jsonl (one line per epoch)
and checkpoint.safetensors + checkpoint.json (after every epoch, atomically). Ctrl-C stops
after the current batch; the unfinished epoch is not saved, and --resume runs it again.

  --model NAME         mlp (default), cnn, vgg, resnet20, resnet32
  --dataset NAME       mnist (default); fashion-mnist, cifar10, cifar100 come with the datasets issue
  --data-dir DIR       read the dataset's files from DIR instead of the bundled copy
  --method NAME        bp (default) or al (sequential Associated Learning); gpipe and
                       naive-pipeline come with the pipeline issue
  --epochs N           passes over the training set (default 10)
  --batch B            mini-batch size (default 128)
  --lr X               initial learning rate (default 1e-3 with adam, 0.05 with sgd; AL: of f and b)
  --optimizer NAME     adam (default) or sgd (momentum 0.9)
  --weight-decay X     L2 weight decay (default 0)
  --schedule NAME      paper (x0.1 at 40/60/80 %, x0.5 at 90 % of the epochs; default) or constant
  --al-layers K        AL: number of AL layers to cut the backbone into (default: the authors' cut)
  --t-width N          AL: width of every t_i (default: the authors' for the backbone)
  --target-lr X        AL: learning rate of g and h (default 2 x --lr)
  --seed S             seed for weights and data order (default 1)
  --threads T          compute threads (default: all ${availableParallelism()} cores)
  --limit N            use only the first N training samples
  --out RUN_DIR        run directory (default runs/<model>-<dataset>-<method>-<time>); must not
                       hold a run already
  --resume RUN_DIR     continue a run from its last finished epoch, with its saved settings;
                       only --epochs (to train further), --threads, --data-dir, --json may be
                       given beside it (others must equal the saved values)
  --json               print one JSON object as the last line of stdout
  -h, --help           this text
`;

const flags: FlagSpec = {
  model: { type: 'string' }, dataset: { type: 'string' }, 'data-dir': { type: 'string' },
  method: { type: 'string' }, pipeline: { type: 'boolean' }, workers: { type: 'string' },
  'micro-batches': { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' },
  lr: { type: 'string' }, optimizer: { type: 'string' }, 'weight-decay': { type: 'string' },
  schedule: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
  limit: { type: 'string' }, 'al-layers': { type: 'string' }, 't-width': { type: 'string' },
  'target-lr': { type: 'string' }, out: { type: 'string' },
  resume: { type: 'string' }, trace: { type: 'boolean' }, json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export interface TrainConfig extends ModelConfig {
  dataset: (typeof DATASETS)[number];
  dataDir: string | undefined;
  epochs: number;
  batch: number;
  seed: number;
  threads: number;
  limit: number | undefined;
  out: string;
  json: boolean;
  /** the run directory being continued (--resume) */
  resume?: string | undefined;
}

/** Default learning rates: Adam 1e-3 for BP; AL_DEFAULT_LR for AL (see the README's AL section). */
export const AL_DEFAULT_LR = 1e-3;

export function parseTrainConfig(argv: string[]): TrainConfig | 'help' {
  const { values } = parseFlags(argv, flags);
  if (values['help']) return 'help';
  const resume = str(values, 'resume');
  if (resume !== undefined) return resumeConfig(values, resume);
  const method = choice(values, 'method', METHODS, 'bp');
  if (method === 'gpipe' || method === 'naive-pipeline') throw new UsageError(`--method ${method}: not available in this version yet (bp and al are)`);
  for (const flag of ['pipeline', 'workers', 'micro-batches', 'trace']) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag}: not available in this version yet`);
  }
  if (method !== 'al') {
    for (const flag of ['al-layers', 't-width', 'target-lr']) if (values[flag] !== undefined) throw new UsageError(`--${flag}: only applies to --method al`);
  }
  const dataset = choice(values, 'dataset', DATASETS, 'mnist');
  if (dataset !== 'mnist') throw new UsageError(`--dataset ${dataset}: not available in this version yet (only mnist)`);
  const model = choice(values, 'model', MODEL_NAMES, 'mlp');
  const optimizer = choice(values, 'optimizer', ['adam', 'sgd'] as const, 'adam');
  if (method === 'al' && optimizer !== 'adam') throw new UsageError('--optimizer: AL layers train with Adam, as the authors did');
  const alLayers = optionalInt(values, 'al-layers');
  if (alLayers !== undefined && (alLayers > maxALLayers(model))) {
    throw new UsageError(`--al-layers: expected 1 to ${maxALLayers(model)} for ${model}, got ${alLayers}`);
  }
  const lr = num(values, 'lr', method === 'al' ? AL_DEFAULT_LR : optimizer === 'adam' ? 1e-3 : 0.05);
  return {
    model,
    dataset,
    dataDir: str(values, 'data-dir'),
    method,
    epochs: int(values, 'epochs', 10),
    batch: int(values, 'batch', 128),
    optimizer,
    lr,
    targetLr: method === 'al' ? num(values, 'target-lr', 2 * lr) : undefined,
    weightDecay: num(values, 'weight-decay', 0, 0, true),
    schedule: choice(values, 'schedule', ['paper', 'constant'] as const, 'paper'),
    alLayers: method === 'al' ? alLayers ?? defaultALLayers(model) : undefined,
    tWidth: optionalInt(values, 't-width'),
    seed: int(values, 'seed', 1, 0),
    threads: int(values, 'threads', availableParallelism(), 1, 256),
    limit: optionalInt(values, 'limit'),
    out: str(values, 'out') ?? defaultRunPath(model, dataset, method),
    json: values['json'] === true,
  };
}

export function loadData(config: { dataDir: string | undefined; limit?: number | undefined }): Dataset {
  return loadMnist({ dataDir: config.dataDir, limit: config.limit });
}

/** Where a run stopped by Ctrl-C can go on from: only finished epochs are saved. */
function stopNote(savedEpochs: number, runDir: string): string {
  return savedEpochs === 0 ? 'no epoch finished, nothing to resume' : `the checkpoint holds epoch ${savedEpochs}; al train --resume ${runDir} continues`;
}

function layerLine(layers: EpochMetrics['layers']): string {
  return layers ? '  ' + layers.map((l, i) => `L${i + 1} ${l.associatedLoss.toExponential(2)}/${l.autoencoderLoss.toExponential(2)}`).join(' ') : '';
}

export async function trainCommand(argv: string[]): Promise<number> {
  const config = parseTrainConfig(argv);
  if (config === 'help') {
    process.stdout.write(trainUsage);
    return 0;
  }
  const backend = await useNativeBackend(config.threads);
  const data = loadData(config);
  const rng = new Rng(config.seed);
  const model = buildTrainable(config, data.train.shape, data.train.classes, rng);
  const { run, startEpoch } = openRun(config, model, { data: rng });
  run.writeConfig({ ...config, resume: undefined, parameters: model.parameters, machine: machineInfo(backend) });
  const log = (line: string): void => {
    if (!config.json) process.stdout.write(line + '\n');
  };
  log(`${config.model} on ${config.dataset} (${data.train.n} training samples), method ${config.method}: ${model.summary.join('; ')}; ${backend.getNumThreads()} threads, ${backend.cpuIsa()}`);
  log(`run directory: ${run.path}${startEpoch > 0 ? ` (resumed after epoch ${startEpoch})` : ''}`);

  let stopRequested = false;
  const onSigint = (): void => {
    stopRequested = true;
  };
  process.once('SIGINT', onSigint);
  const bar = new ProgressBar();
  const begin = performance.now();
  let history: EpochMetrics[];
  try {
    history = await runEpochs(model.learner, data, {
      epochs: config.epochs,
      startEpoch,
      batchSize: config.batch,
      rng,
      onBatch: (p) => {
        const rate = p.samples / Math.max(p.seconds, 1e-9);
        const eta = (p.batches - p.batch) * (p.seconds / p.batch);
        bar.update(`epoch ${p.epoch + 1}/${config.epochs}`, p.batch, p.batches,
          `loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(2)}% ${Math.round(rate)} samples/s${layerLine(p.layers)}`, eta);
      },
      onEpoch: (m) => {
        bar.clear();
        run.appendMetrics({ ...m, method: config.method });
        saveTrainingCheckpoint(run.path, model, { epoch: m.epoch, rngs: { data: rng }, config: runIdentity(config) });
        log(`epoch ${m.epoch}/${config.epochs}  loss ${m.trainLoss.toFixed(4)}  train ${(100 * m.trainAccuracy).toFixed(2)}%  test ${(100 * m.testAccuracy).toFixed(2)}%  ${Math.round(m.samplesPerSec)} samples/s  ${formatDuration(m.seconds)}${layerLine(m.layers)}`);
      },
      shouldStop: () => stopRequested,
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar.clear();
  }
  const last = history[history.length - 1];
  const seconds = (performance.now() - begin) / 1000;
  const summary = {
    testAccuracy: last?.testAccuracy ?? 0,
    trainLoss: last?.trainLoss ?? Number.NaN,
    samplesPerSec: last?.samplesPerSec ?? 0,
    seconds,
    runDir: run.path,
  };
  if (config.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else if (stopRequested) log(`stopped early by Ctrl-C after ${formatDuration(seconds)}: ${stopNote(startEpoch + history.length, run.path)}`);
  else log(`done in ${formatDuration(seconds)}: test accuracy ${(100 * summary.testAccuracy).toFixed(2)}%`);
  return 0;
}
