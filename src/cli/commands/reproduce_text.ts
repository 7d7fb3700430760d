// The tables `al reproduce` prints: ours beside the published figures, in the paper's layout
// (one row per network, BP and AL side by side), plus one line per run with its budget and speed.
import type { ModelName } from '../../models/index.js';
import { formatDuration } from '../progress.js';
import { table } from './analyze_text.js';
import { NETWORKS, PUBLISHED_ACCURACY, PUBLISHED_DISTANCES, networkTitle, type Distances, type Experiment, type Published } from './reproduce_tables.js';

export interface RunResult {
  name: string;
  epochs: number;
  testAccuracy: number;
  trainAccuracy: number | null;
  samplesPerSec: number;
  seconds: number;
  runDir: string;
}

/** Our distances of one run's top representation, and what that representation is. */
export interface RunDistances extends Distances {
  name: string;
  representation: string;
  features: number;
  samples: number;
}

const DASH = '—';
const pct = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? DASH : `${(100 * x).toFixed(2)}%`);
const published = (p: Published | undefined): string => (p ? `${(100 * p.mean).toFixed(1)} ± ${(100 * p.std).toFixed(1)}%` : DASH);
const fixed = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? DASH : x.toFixed(2));

const DATASET_TITLES: Record<string, string> = { mnist: 'MNIST', cifar10: 'CIFAR-10', cifar100: 'CIFAR-100' };

/** The result of the run of `model` and `method` on `dataset` among `list`, when it ran. */
function resultOf<T extends { name: string }>(list: Experiment[], results: T[], dataset: string, model: ModelName, method: 'bp' | 'al'): T | null {
  const e = list.find((x) => x.dataset === dataset && x.model === model && x.method === method);
  return (e && results.find((r) => r.name === e.name)) ?? null;
}

export interface AccuracyRow {
  network: string;
  bp: { ours: number | null; epochs: number | null; published: Published | null };
  al: { ours: number | null; epochs: number | null; published: Published | null };
}

/** The paper's accuracy table (networks × BP, AL) for one dataset, over the networks `list` runs. */
export function accuracyRows(dataset: 'mnist' | 'cifar10' | 'cifar100', list: Experiment[], results: RunResult[]): AccuracyRow[] {
  return NETWORKS.filter((n) => list.some((e) => e.dataset === dataset && e.model === n.model && (e.method === 'bp' || e.method === 'al'))).map((n) => {
    const cell = (method: 'bp' | 'al'): AccuracyRow['bp'] => {
      const r = resultOf(list, results, dataset, n.model, method);
      return { ours: r?.testAccuracy ?? null, epochs: r?.epochs ?? null, published: PUBLISHED_ACCURACY[dataset][n.model]?.[method] ?? null };
    };
    return { network: n.title, bp: cell('bp'), al: cell('al') };
  });
}

export function accuracyText(dataset: 'mnist' | 'cifar10' | 'cifar100', rows: AccuracyRow[]): string[] {
  const epochs = (c: AccuracyRow['bp']): string => (c.epochs === null ? DASH : `${c.epochs}`);
  const missing = rows.some((r) => (!r.bp.published || !r.al.published));
  return [
    `${DATASET_TITLES[dataset]}${dataset === 'cifar100' ? ' (100 fine classes)' : ''}: test accuracy, ours (this machine, the epochs shown) beside the published (200 epochs, mean ± std over runs)`,
    ...table(['network', 'BP epochs', 'BP ours', 'BP published', 'AL epochs', 'AL ours', 'AL published'],
      rows.map((r) => [r.network, epochs(r.bp), pct(r.bp.ours), published(r.bp.published ?? undefined), epochs(r.al), pct(r.al.ours), published(r.al.published ?? undefined)])),
    ...(missing && dataset === 'cifar10' ? ['  the CIFAR-10 MLP and Vanilla CNN figures are not legible in the reference copy of the paper'] : []),
  ];
}

/** One line per run: its budget, accuracy and speed. */
export function runsText(results: RunResult[]): string[] {
  return table(['run', 'epochs', 'test acc', 'train acc', 'samples/s', 'time', 'run directory'],
    results.map((r) => [r.name, `${r.epochs}`, pct(r.testAccuracy), pct(r.trainAccuracy), r.samplesPerSec.toFixed(0), formatDuration(r.seconds), r.runDir]));
}

export interface DistanceRow {
  dataset: 'cifar10' | 'cifar100';
  network: string;
  bp: RunDistances | null;
  al: RunDistances | null;
  published: { bp: Distances; al: Distances };
}

export function distanceRows(list: Experiment[], results: RunDistances[]): DistanceRow[] {
  return PUBLISHED_DISTANCES.filter((d) => list.some((e) => e.dataset === d.dataset && e.model === d.model)).map((d) => ({
    dataset: d.dataset, network: networkTitle(d.model),
    bp: resultOf(list, results, d.dataset, d.model, 'bp'),
    al: resultOf(list, results, d.dataset, d.model, 'al'),
    published: { bp: d.bp, al: d.al },
  }));
}

export function distanceText(rows: DistanceRow[]): string[] {
  const cells = (d: Distances | null): string[] => [fixed(d?.inter), fixed(d?.intra), fixed(d?.ratio)];
  const body = rows.flatMap((r) => [
    [DATASET_TITLES[r.dataset]!, r.network, 'ours', ...cells(r.bp), ...cells(r.al)],
    ['', '', 'published', ...cells(r.published.bp), ...cells(r.published.al)],
  ]);
  const shown = rows.flatMap((r) => [r.bp, r.al]).find((d) => d !== null);
  return [
    'Inter-class / intra-class distance of the learned representations, ours beside the published (higher ratio = better separated)',
    ...table(['dataset', 'network', '', 'BP inter', 'BP intra', 'BP ratio', 'AL inter', 'AL intra', 'AL ratio'], body),
    `  ours: on ${shown?.samples ?? 'the'} test samples (al analyze --distance-ratio; intra = mean distance to the class centroid, inter = mean`,
    '  distance between centroids); BP: the classifier\'s input (the last hidden layer), AL: b_L(s_L), the top AL layer\'s',
    '  image of s_L in the space of t_L, which inference decodes. Every layer is in each run\'s analysis.json',
  ];
}

export interface StaleGradients {
  /** the naive-pipeline run */
  naive: { name: string; testAccuracy: number };
  /** the exact methods on the same network: test accuracy and the naive run's gap to it (naive − this, in points) */
  against: { name: string; method: 'bp' | 'gpipe'; testAccuracy: number; points: number }[];
}

/** What stale gradients cost: each naive-pipeline run against BP and GPipe on the same network and budget (none when no such pair ran). */
export function staleGradients(list: Experiment[], results: RunResult[]): StaleGradients[] {
  const result = (e: Experiment): RunResult | undefined => results.find((r) => r.name === e.name);
  return list.filter((e) => e.method === 'naive-pipeline' && result(e)).flatMap((e) => {
    const naive = result(e)!;
    const against = list.filter((x) => (x.method === 'bp' || x.method === 'gpipe') && x.model === e.model && x.dataset === e.dataset && result(x))
      .map((x) => ({ name: x.name, method: x.method as 'bp' | 'gpipe', testAccuracy: result(x)!.testAccuracy, points: 100 * (naive.testAccuracy - result(x)!.testAccuracy) }));
    return against.length === 0 ? [] : [{ naive: { name: naive.name, testAccuracy: naive.testAccuracy }, against }];
  });
}

export function staleGradientText(rows: StaleGradients[]): string[] {
  return [
    'Stale gradients: the naive pipeline (each stage updates as soon as its gradients arrive, so the next batches run on weights',
    'their gradients were not computed with) against the exact methods on the same network and budget',
    ...table(['naive run', 'test acc', 'against', 'its test acc', 'naive − it'],
      rows.flatMap((r) => r.against.map((a, i) => [i === 0 ? r.naive.name : '', i === 0 ? pct(r.naive.testAccuracy) : '', `${a.name} (${a.method})`, pct(a.testAccuracy),
        `${a.points >= 0 ? '+' : '−'}${Math.abs(a.points).toFixed(2)} points`]))),
  ];
}
