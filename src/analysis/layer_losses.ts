// metrics.jsonl, read back and checked, and the per-layer loss table of an AL run: each AL
// layer's associated loss ||b_i(s_i) − t_i||² and autoencoder loss ||h_i(t_i) − t_{i−1}||² (the
// epoch's mean over its batches), in the first and the last epoch, and the ratio layer 1 over
// layer L with its base-10 logarithm. The raw loss's scale is set by how far apart the class codes
// t_i lie, so layer_codes.ts gives the comparable measures (normalised loss, nearest-code accuracy).
import type { LayerLosses } from '../al/al_layer.js';
import { AnalysisError } from './errors.js';

/**
 * The authors' slide of the associated loss on MNIST after 200 epochs (Kao & Chen's talk on AL). Its
 * columns are networks with 1, 2 and 3 AL layers, its rows the layers of each: `columns[j][i]` is
 * layer i + 1 of the network with j + 1 layers. Cells stand as the slide's extracted text reads
 * them, left to right; `null` is a cell whose digits the text lost (`lostExponent` keeps the
 * power of ten when it survived). Layer 1 is about 1.2e-5, layer 2 3.8e-7, layer 3 6.7e-10.
 */
export const SLIDES_ASSOCIATED_LOSS: { dataset: 'mnist'; epochs: number; columns: (number | null)[][]; lostExponent: (number | null)[][] } = {
  dataset: 'mnist',
  epochs: 200,
  columns: [[1.2488e-5], [1.2219e-5, 3.8033e-7], [null, null, 6.7192e-10]],
  lostExponent: [[null], [null, null], [null, -7, null]],
};

/** The fields of one metrics.jsonl line that the analyses read. */
export interface MetricsRecord {
  epoch: number;
  samplesPerSec: number;
  seconds: number;
  testAccuracy: number;
  layers?: LayerLosses[];
  /** pipelined runs: each stage's busy time / epoch wall time */
  utilisation?: number[];
}

const isNumber = (v: unknown): v is number => typeof v === 'number';

function checkLine(value: unknown, where: string): MetricsRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AnalysisError(`${where}: expected a JSON object`);
  const r = value as Record<string, unknown>;
  for (const field of ['epoch', 'samplesPerSec', 'seconds', 'testAccuracy']) {
    if (!isNumber(r[field])) throw new AnalysisError(`${where}: expected a number in '${field}', got ${JSON.stringify(r[field])}`);
  }
  if (r['layers'] !== undefined) {
    const ok = Array.isArray(r['layers']) && r['layers'].every((l: unknown) =>
      typeof l === 'object' && l !== null && isNumber((l as LayerLosses).associatedLoss) && isNumber((l as LayerLosses).autoencoderLoss));
    if (!ok) throw new AnalysisError(`${where}: expected 'layers' to be a list of {associatedLoss, autoencoderLoss}`);
  }
  if (r['utilisation'] !== undefined && !(Array.isArray(r['utilisation']) && r['utilisation'].every(isNumber))) {
    throw new AnalysisError(`${where}: expected 'utilisation' to be a list of numbers`);
  }
  return r as unknown as MetricsRecord;
}

/** Every line of a metrics.jsonl file; a bad line is an error naming the file and the line. */
export function parseMetrics(text: string, file: string): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new AnalysisError(`${file}:${i + 1}: not JSON (${(error as Error).message})`);
    }
    records.push(checkLine(value, `${file}:${i + 1}`));
  });
  if (records.length === 0) throw new AnalysisError(`${file}: no epochs recorded (the run stopped before its first epoch ended)`);
  return records;
}

export interface LayerLossRow {
  /** 1-based AL layer */
  layer: number;
  first: LayerLosses;
  last: LayerLosses;
}

export interface LayerLossTable {
  firstEpoch: number;
  lastEpoch: number;
  rows: LayerLossRow[];
  /** last epoch: associated loss of layer 1 / that of layer L (null with one layer or a zero loss) */
  depthRatio: number | null;
  /** log10(depthRatio): orders of magnitude the associated loss falls from layer 1 to layer L */
  depthOrders: number | null;
}

/** The table from the epochs that recorded per-layer losses (AL runs); `file` names the source in errors. */
export function layerLossTable(records: readonly MetricsRecord[], file: string): LayerLossTable {
  const withLayers = records.filter((r) => r.layers !== undefined && r.layers.length > 0);
  if (withLayers.length === 0) throw new AnalysisError(`${file}: no epoch has per-layer losses ('layers'); only AL runs record them`);
  const first = withLayers[0]!, last = withLayers[withLayers.length - 1]!;
  if (first.layers!.length !== last.layers!.length) {
    throw new AnalysisError(`${file}: epoch ${first.epoch} has ${first.layers!.length} layers but epoch ${last.epoch} has ${last.layers!.length}`);
  }
  const rows = last.layers!.map((l, i) => ({ layer: i + 1, first: first.layers![i]!, last: l }));
  const top = last.layers![last.layers!.length - 1]!.associatedLoss;
  const depthRatio = rows.length > 1 && top > 0 ? last.layers![0]!.associatedLoss / top : null;
  return { firstEpoch: first.epoch, lastEpoch: last.epoch, rows, depthRatio, depthOrders: depthRatio !== null && depthRatio > 0 ? Math.log10(depthRatio) : null };
}
