// The tables of `al analyze` as text: aligned columns, losses in scientific notation,
// accuracies and fractions in per cent.
import type { NamedDistances } from '../../analysis/representations.js';
import type { LayerLossTable } from '../../analysis/layer_losses.js';
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
    out.push(`  associated loss, layer 1 / layer ${t.rows.length} at epoch ${t.lastEpoch}: ${t.depthRatio.toPrecision(3)}×${orders}`,
      '  (the authors\' slides, MNIST after 200 epochs, networks of 1, 2, 3 AL layers: about 1.2e-5 at layer 1, 3.8e-7 at layer 2, 6.7e-10 at layer 3)');
  }
  return out;
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
  out.push('  the measured figure includes the pipeline fill and each epoch\'s drain, which the projection leaves out');
  return out;
}
