// The tables of `al analyze` as text: aligned columns, losses in scientific notation,
// accuracies and fractions in per cent.
import type { NamedDistances } from '../../analysis/representations.js';
import type { LayerCodeRow } from '../../analysis/layer_codes.js';
import { SLIDES_ASSOCIATED_LOSS, type LayerLossTable } from '../../analysis/layer_losses.js';
import type { LayerLosses } from '../../al/al_layer.js';
import type { TimelineProjection, TraceStats } from '../../analysis/trace_stats.js';

/** Columns padded to their widest cell; the first column left-aligned, the others right. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string => '  ' + cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const exp = (x: number): string => x.toExponential(3);
const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;
const fixed = (x: number | null, digits = 3): string => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));
/** Distances: 3 decimals in the usual range, 3 significant digits in scientific notation outside it. */
const distance = (x: number | null): string =>
  x === null || !Number.isFinite(x) ? '—' : x !== 0 && (Math.abs(x) < 0.01 || Math.abs(x) >= 1e5) ? x.toExponential(2) : x.toFixed(3);
const rate = (x: number | null): string => (x === null ? '—' : Math.round(x).toLocaleString('en-US'));

export function layerLossText(t: LayerLossTable): string[] {
  const one = t.firstEpoch === t.lastEpoch;
  const out = [`Per-layer losses (${one ? `epoch ${t.lastEpoch}` : `epoch ${t.firstEpoch} → epoch ${t.lastEpoch}`}; means over each epoch's batches)`];
  out.push(...(one
    ? table(['AL layer', 'associated', 'autoencoder'], t.rows.map((r) => [`${r.layer}`, exp(r.last.associatedLoss), exp(r.last.autoencoderLoss)]))
    : table(
      ['AL layer', `associated (ep ${t.firstEpoch})`, `associated (ep ${t.lastEpoch})`, `autoencoder (ep ${t.firstEpoch})`, `autoencoder (ep ${t.lastEpoch})`],
      t.rows.map((r) => [`${r.layer}`, exp(r.first.associatedLoss), exp(r.last.associatedLoss), exp(r.first.autoencoderLoss), exp(r.last.autoencoderLoss)]),
    )));
  if (t.depthRatio !== null) {
    const orders = t.depthOrders === null ? '' : ` (${t.depthOrders >= 0 ? '' : '−'}${Math.abs(t.depthOrders).toFixed(1)} orders of magnitude)`;
    out.push(`  associated loss, layer 1 / layer ${t.rows.length} at epoch ${t.lastEpoch}: ${t.depthRatio.toPrecision(3)}×${orders}`);
  }
  out.push(...slidesText(t.rows.length));
  return out;
}

/** A cell of the slide's table: its value, '?' (digits lost, '?e-7' when the power survived) or '—' (no such layer). */
function slideCell(network: number, layer: number): string {
  const value = SLIDES_ASSOCIATED_LOSS.columns[network]![layer];
  if (value === undefined) return '—';
  if (value !== null) return exp(value);
  const power = SLIDES_ASSOCIATED_LOSS.lostExponent[network]![layer];
  return power === null || power === undefined ? '?' : `?e${power}`;
}

/** The slide's table, one column per network of 1, 2 and 3 AL layers, for a run of `layers` layers to be read against. */
export function slidesText(layers: number): string[] {
  const { columns, epochs } = SLIDES_ASSOCIATED_LOSS;
  const header = ['AL layer', ...columns.map((_, j) => `${j + 1}-layer network`)];
  const rows = columns.map((_, i) => [`${i + 1}`, ...columns.map((__, j) => slideCell(j, i))]);
  return [`  The authors' slide: associated loss per layer, MNIST after ${epochs} epochs: one column per network (1, 2, 3 AL layers); '?' = digits lost`,
    ...table(header, rows).map((line) => '  ' + line),
    layers <= columns.length
      ? `  this run has ${layers} AL layer${layers === 1 ? '' : 's'}: compare with the ${layers}-layer column; the raw loss scales with the spread of the class codes (see the normalised loss)`
      : `  this run has ${layers} AL layers, more than any network of the slide's table`];
}

/** Per-layer code measures (layer_codes.ts), beside the raw training loss of the last epoch normalised by the same spread. */
export function layerCodeText(rows: readonly LayerCodeRow[], train: { epoch: number; layers: readonly LayerLosses[] } | null, samples: number): string[] {
  const ratio = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : x.toExponential(3));
  const header = ['AL layer', 't width', ...(train ? [`associated (train, ep ${train.epoch})`] : []), 'associated (test)', 'code spread',
    ...(train ? ['normalised (train)'] : []), 'normalised (test)', 'nearest-code accuracy'];
  const body = rows.map((r) => {
    const trained = train?.layers[r.layer - 1]?.associatedLoss;
    return [`${r.layer}`, `${r.features}`, ...(train ? [trained === undefined ? '—' : exp(trained)] : []), exp(r.associated), exp(r.spread),
      ...(train ? [trained === undefined || r.spread === 0 ? '—' : ratio(trained / r.spread)] : []), ratio(r.normalised), pct(r.nearestCodeAccuracy, 2)];
  });
  return [`Class codes per layer on ${samples} test samples: t_k(c) = g_k(...g_1(one-hot c)); b_k(s_k) against them`,
    ...table(header, body),
    '  code spread: mean over pairs of distinct classes of mean((t_k(c) − t_k(c\'))²); normalised = associated / code spread',
    '  (0 = on its class code, about 1 = as far from it as the codes are from each other); nearest-code accuracy: b_k(s_k)',
    '  nearest to its own class\'s code. Unlike the raw loss, neither changes when the codes are scaled'];
}

export function distanceText(rows: NamedDistances[], targets: { name: string; inter: number; features: number }[], samples: number, seed: number): string[] {
  const out = [`Class distances on ${samples} test samples (seed ${seed}): intra = mean over classes of the mean distance to the class centroid, inter = mean distance between centroids, ratio = inter / intra (higher = better separated)`];
  const body = rows.map((r) => [r.name, `${r.features}`, distance(r.inter), distance(r.intra), distance(r.ratio)]);
  // t_k after b_k(s_k): the target the bridge is pulled towards
  for (const t of targets) {
    const at = body.findIndex((r) => r[0]!.startsWith(`b${t.name.slice(1)}(`));
    body.splice(at + 1, 0, [`${t.name} (targets)`, `${t.features}`, distance(t.inter), '0', '—']);
  }
  out.push(...table(['representation', 'features', 'inter', 'intra', 'ratio'], body));
  if (targets.length > 0) out.push('  t_k is a function of the label alone: every point of a class has the same t_k, so only its inter-class distance is shown');
  return out;
}

export function exitText(accuracies: number[]): string[] {
  return ['Test accuracy by exit layer (prediction h_1(...h_k(b_k(s_k))))',
    ...table(['exit layer', 'test accuracy'], accuracies.map((a, i) => [`${i + 1}`, pct(a, 2)]))];
}

export function stageText(stats: TraceStats, lastEpochBusy: number[] | undefined): string[] {
  const inside = stats.inEpochs;
  const header = ['stage', 'AL layers', 'batches', 'first step ms', 'mean step ms', 'busy ms', 'utilisation', ...(inside ? ['in epochs'] : []), ...(lastEpochBusy ? ['last epoch (metrics)'] : [])];
  const rows = stats.stages.map((s) => [`S${s.stage + 1}`, s.layers.join('+'), `${s.intervals}`, s.firstStepMs.toFixed(2), s.meanStepMs.toFixed(2),
    s.busyMs.toFixed(1), pct(s.utilisation), ...(inside ? [pct(inside.perStage[s.stage]!)] : []),
    ...(lastEpochBusy ? [lastEpochBusy[s.stage] === undefined ? '—' : pct(lastEpochBusy[s.stage]!)] : [])]);
  return [`Measured timeline (trace.json): ${stats.batches} batches over ${(stats.spanMs / 1000).toFixed(2)} s, bubble ${pct(stats.bubble)}` +
      (inside ? `; inside the epochs (${(inside.spanMs / 1000).toFixed(2)} s) bubble ${pct(inside.bubble)}` : ''),
    ...table(header, rows),
    '  mean step: without each stage\'s first (warm-up) step. utilisation: busy / the whole span, which includes each epoch\'s',
    '  drain (weights collected, test accuracy measured); in epochs: busy / the epochs\' own spans; last epoch: busy / its wall time'];
}

export function projectionText(p: TimelineProjection, source: string): string[] {
  const m = p.measured;
  const out = [`Projected samples/s of pipelined AL from the mean step times of ${source} (batch ${p.batchSize}; per AL layer ${p.layerStepMs.map((x) => x.toFixed(2)).join(', ')} ms)`];
  out.push(...table(['devices', 'ms per batch', 'samples/s', 'measured (this run)'],
    p.rows.map((r) => [`${r.devices}`, fixed(r.msPerBatch, 2), rate(r.samplesPerSec), r.devices === m.stages ? rate(m.samplesPerSec) : ''])));
  if (!p.rows.some((r) => r.devices === m.stages)) out.push(`  this run: ${m.stages} stages, measured ${rate(m.samplesPerSec)} samples/s, projected ${rate(m.projected)}`);
  const off = `${m.deviation >= 0 ? '+' : ''}${(100 * m.deviation).toFixed(1)}%`;
  out.push(`  measured (metrics.jsonl, last epoch) vs projected for ${m.stages} device${m.stages === 1 ? '' : 's'}: ${off}` +
    ` (${Math.abs(m.deviation) <= 0.15 ? 'within' : 'outside'} ±15% of the projection)`);
  out.push('  the measured figure includes the pipeline fill, each epoch\'s drain and the waits for evaluations between steps, which the projection leaves out');
  return out;
}
