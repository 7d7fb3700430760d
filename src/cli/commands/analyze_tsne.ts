// `al analyze RUN_DIR --tsne`: t-SNE embeddings (src/analysis/tsne.ts) of a seeded sample of the
// test set, as the raw input and as the chosen layers represent it, each drawn as an SVG scatter
// plot coloured by class and kept, point by point, for analysis.json (al report draws from it).
// Runs chunk by chunk, so the progress bar moves and Ctrl-C stops between chunks.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AnalysisError } from '../../analysis/errors.js';
import type { Backend } from '../../backend/kernel_names.js';
import { alProbe, collectFeatures, sampleSplit, sequentialProbe } from '../../analysis/representations.js';
import { scatterSvg } from '../../analysis/scatter_svg.js';
import { TsneRun } from '../../analysis/tsne.js';
import type { Dataset, Split } from '../../data/dataset.js';
import { writeFileAtomic } from '../../train/run_dir.js';
import { int, num, type Parsed } from '../args.js';
import { UsageError } from '../errors.js';
import type { Trainable } from '../../run/trainable.js';
import { ProgressBar } from '../progress.js';
import { table } from './analyze_text.js';

export const DEFAULT_PERPLEXITY = 30;
export const DEFAULT_ITERATIONS = 1000;
/** Steps between progress-bar redraws and Ctrl-C checks: a few ms each at 5,000 points. */
const CHUNK = 50;
/** Barnes–Hut accuracy: the kernel's default, fast and indistinguishable from exact in plots. */
const THETA = 0.5;
/** Coordinates kept in analysis.json: 4 decimals, far below a pixel of any plot. */
const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

export interface TsneSettings {
  /** AL layers or BP top-level modules (1-based) whose representation is embedded, after the input */
  layers: number[];
  samples: number;
  seed: number;
  perplexity: number;
  iterations: number;
  svgDir: string;
}

/** One embedded representation, as analysis.json keeps it. */
export interface TsneLayer {
  name: string;
  /** null for the input */
  layer: number | null;
  features: number;
  kl: number;
  seconds: number;
  svg: string;
  /** x, y pairs, [n * 2] */
  points: number[];
  labels: number[];
}

/**
 * --perplexity and --iterations, checked before the data loads: perplexity >= 1 (the kernel
 * calibrates each point's Gaussian to an entropy of log(perplexity) over floor(3·perplexity)
 * neighbours, and an entropy below 0 cannot be reached).
 */
export function tsneFlags(values: Parsed['values']): { perplexity: number; iterations: number } {
  const perplexity = num(values, 'perplexity', DEFAULT_PERPLEXITY, 1, true);
  const iterations = int(values, 'iterations', DEFAULT_ITERATIONS, 1, 1_000_000_000);
  const samples = Number(values['samples']);
  if (Number.isSafeInteger(samples)) checkPerplexity(perplexity, samples);
  return { perplexity, iterations };
}

function checkPerplexity(perplexity: number, samples: number): void {
  if (3 * perplexity >= samples) {
    throw new UsageError(`--perplexity: expected 3·perplexity below the ${samples} samples (each point needs 3·perplexity neighbours), got ${perplexity}; lower --perplexity or raise --samples`);
  }
}

/**
 * What to embed, once the model and the sample size are known: 3·perplexity must stay below the
 * sample count. Default layers: every AL layer's s_k; for BP the penultimate top-level module
 * (the features the classifier reads).
 */
export function tsneSettings(values: Parsed['values'], model: Trainable, layer: number | undefined, samples: number, seed: number, runDir: string): TsneSettings {
  const { perplexity, iterations } = tsneFlags(values);
  checkPerplexity(perplexity, samples);
  const depth = model.al ? model.depth : model.bp!.model.layers.length;
  const layers = layer !== undefined ? [layer] : model.al ? Array.from({ length: depth }, (_, i) => i + 1) : [Math.max(1, depth - 1)];
  const svgDir = typeof values['svg-dir'] === 'string' ? values['svg-dir'] : runDir;
  return { layers, samples, seed, perplexity, iterations, svgDir };
}

/** The representation a t-SNE embeds: x itself, s_k of AL layer k, or the output of BP module k. */
function features(model: Trainable, sample: Split, layer: number | null): { name: string; data: Float32Array; features: number } {
  if (layer === null) return { name: 'x (input)', data: sample.images, features: sample.images.length / sample.n };
  const probe = model.al ? alProbe(model.al.net, [layer]) : sequentialProbe(model.bp!.model, [layer]);
  return { name: probe.names[0]!, ...collectFeatures(probe, sample, 0) };
}

function title(model: Trainable, name: string, layer: number | null): string {
  if (layer === null) return 't-SNE of the input x';
  return model.al ? `t-SNE of ${name} (AL layer ${layer})` : `t-SNE of module ${name.replace(' ', ' (')})`;
}

/** Takes the steps chunk by chunk; false when `stop` said so between two chunks. */
async function embed(run: TsneRun, label: string, progress: ProgressBar, stop: () => boolean): Promise<boolean> {
  const begin = performance.now();
  while (!run.done) {
    // Lets a Ctrl-C's handler run: the native steps block the event loop while they compute.
    await new Promise((resolve) => setImmediate(resolve));
    if (stop()) return false;
    const kl = run.step(CHUNK);
    const seconds = (performance.now() - begin) / 1000;
    progress.update(label, run.iteration, run.iterations, `KL ${kl.toFixed(3)}`, (seconds / run.iteration) * (run.iterations - run.iteration));
  }
  return true;
}

export interface TsneResult {
  json: { perplexity: number; samples: number; seed: number; iterations: number; theta: number; threads: number; layers: TsneLayer[] };
  text: string[];
}

/**
 * The t-SNE of the input and of each chosen layer, their SVG plots written (atomically) as each
 * finishes; null when `stop` turned true (Ctrl-C), with the plots finished before it written.
 */
export async function tsneAnalysis(s: TsneSettings, model: Trainable, data: Dataset, describe: string, threads: number, stop: () => boolean): Promise<TsneResult | null> {
  const sample = sampleSplit(data.test, s.samples, s.seed);
  try {
    mkdirSync(s.svgDir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--svg-dir ${s.svgDir}: cannot create it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const bar = new ProgressBar();
  const layers: TsneLayer[] = [];
  const all = [null, ...s.layers];
  try {
    for (const [i, layer] of all.entries()) {
      const begin = performance.now();
      const f = features(model, sample, layer);
      const label = `t-SNE ${i + 1}/${all.length} ${f.name}`;
      bar.update(label, 0, s.iterations, 'neighbours and affinities', Number.NaN); // seconds at 5,000 points
      let run: TsneRun;
      try {
        run = new TsneRun(f.data, sample.n, f.features, { perplexity: s.perplexity, iterations: s.iterations, seed: s.seed, theta: THETA });
      } catch (error) {
        // non-finite features: a diverged run's checkpoint
        throw new AnalysisError(`t-SNE of ${f.name}: ${(error as Error).message}`);
      }
      if (!(await embed(run, label, bar, stop))) return null;
      const y = run.embedding;
      const svg = join(s.svgDir, layer === null ? 'tsne-input.svg' : `tsne-layer-${layer}.svg`);
      const subtitle = [describe, `${s.samples} test samples (seed ${s.seed}), ${f.features} features, perplexity ${s.perplexity}`, `KL ${run.kl.toFixed(4)} after ${run.iteration} iterations`];
      try {
        writeFileAtomic(svg, scatterSvg(y, sample.labels, { title: title(model, f.name, layer), subtitle, classes: sample.classes }));
      } catch (error) {
        throw new UsageError(`--svg-dir ${s.svgDir}: cannot write ${svg} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      layers.push({
        name: f.name, layer, features: f.features, kl: run.kl, seconds: Math.round(performance.now() - begin) / 1000, svg,
        points: Array.from(y, round4), labels: Array.from(sample.labels),
      });
    }
  } finally {
    bar.clear();
  }
  const text = [`t-SNE of ${s.samples} test samples (seed ${s.seed}): perplexity ${s.perplexity}, ${s.iterations} iterations, Barnes–Hut theta ${THETA}, ${threads} thread${threads === 1 ? '' : 's'}`,
    ...table(['representation', 'features', 'KL', 'seconds', 'scatter plot'], layers.map((l) => [l.name, `${l.features}`, l.kl.toFixed(4), l.seconds.toFixed(1), basename(l.svg)])),
    `  scatter plots (coloured by class) in ${s.svgDir}`];
  return { json: { perplexity: s.perplexity, samples: s.samples, seed: s.seed, iterations: s.iterations, theta: THETA, threads, layers }, text };
}

/**
 * tsneAnalysis with Ctrl-C wired to stop it between chunks: null when it did. `threads`: the
 * --threads flag.
 */
export async function tsneUntilCtrlC(s: TsneSettings, model: Trainable, data: Dataset, describe: string, backend: Backend, threads: number | undefined): Promise<TsneResult | null> {
  // One thread unless --threads says otherwise: on this busy 2-core machine two threads ran
  // t-SNE slower than one, since OpenMP's threads spin-wait at the barrier that ends every step
  // while another job holds the second core (measured with scripts/tsne_bench.mjs --threads).
  backend.setNumThreads(threads ?? 1);
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  // once: a second Ctrl-C ends the process at once, as usual
  process.once('SIGINT', onSigint);
  try {
    return await tsneAnalysis(s, model, data, describe, backend.getNumThreads(), () => interrupted);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
