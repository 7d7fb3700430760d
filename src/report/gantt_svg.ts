// Gantt charts of pipeline schedules as standalone SVG: one row per stage, one rect per busy
// interval coloured by kind, the batch number inside when it fits, a time axis, a legend and
// each stage's utilisation. Generic over the interval source: simulated schedules (time units
// from 0) and traces measured from real runs ({stage, batch, kind, start, end} in ms, from any
// clock origin: the chart starts at the earliest interval).
import type { IntervalKind } from '../pipeline/plan/simulator.js';
import { utilisation, type GanttInterval } from '../pipeline/plan/utilisation.js';

export interface GanttOptions {
  title: string;
  /** 'units' (default) for simulated schedules, 'ms' for measured traces */
  unit?: 'units' | 'ms';
  /** row names (default S1, S2, …) */
  stageLabels?: readonly string[];
  /** a line under the title; by default the span and the bubble fraction */
  subtitle?: string;
  /** total width in px (default 960) */
  width?: number;
}

export const KIND_COLOURS: Record<IntervalKind, string> = {
  forward: '#4e79a7',
  backward: '#f28e2b',
  step: '#59a14f',
  update: '#b07aa1',
};

const ROW = 22, GAP = 6, TOP = 52, FONT = 11, CHAR = 6.6;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A number with at most 4 significant digits, no trailing zeros. */
function short(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)));
}

/** A tick step of 1, 2 or 5 × 10^k giving about `target` ticks; whole units for schedules. */
function tickStep(span: number, target: number, wholeUnits: boolean): number {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return wholeUnits ? Math.max(1, Math.round(step)) : step;
}

function label(i: GanttInterval): string {
  return i.micro === undefined ? `${i.batch + 1}` : `${i.batch + 1}.${i.micro + 1}`;
}

/**
 * The chart as an SVG document. Batch numbers are written from 1, as in the authors' slides
 * (x^(1), x^(2), …); a micro-batch shows as batch.micro. Each rect has a tooltip with details.
 */
export function ganttSvg(intervals: readonly GanttInterval[], options: GanttOptions): string {
  const unit = options.unit ?? 'units';
  const use = utilisation(intervals, options.stageLabels?.length);
  const stages = use.perStage.length;
  const names = Array.from({ length: stages }, (_, s) => options.stageLabels?.[s] ?? `S${s + 1}`);
  const origin = intervals.length > 0 ? intervals.reduce((m, i) => Math.min(m, i.start), Infinity) : 0;
  const span = use.span > 0 ? use.span : 1;
  const width = options.width ?? 960;
  const left = Math.ceil(Math.max(...names.map((n) => n.length), 2) * CHAR) + 16;
  const right = 58;
  const plot = Math.max(100, width - left - right);
  const x = (t: number): number => left + ((t - origin) / span) * plot;
  const rowY = (stage: number): number => TOP + stage * (ROW + GAP);
  const axisY = rowY(stages) + 2;
  const height = axisY + 56;
  const subtitle = options.subtitle ?? `span ${short(use.span)} ${unit}, bubble ${(100 * use.bubble).toFixed(1)}%`;

  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT}">`,
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<text x="${left}" y="38" fill="#555555">${escapeXml(subtitle)}</text>`,
    `<text x="${left + plot + 6}" y="${TOP - 6}" fill="#555555">busy</text>`,
  ];
  names.forEach((name, s) => {
    const y = rowY(s);
    out.push(`<rect class="row" x="${left}" y="${y}" width="${plot}" height="${ROW}" fill="#f2f2f2"/>`);
    out.push(`<text x="${left - 8}" y="${y + ROW / 2 + 4}" text-anchor="end">${escapeXml(name)}</text>`);
    out.push(`<text x="${left + plot + 6}" y="${y + ROW / 2 + 4}">${(100 * use.perStage[s]!).toFixed(0)}%</text>`);
  });
  for (const i of intervals) {
    const x0 = x(i.start), w = Math.max(x(i.end) - x0, 0.5), y = rowY(i.stage);
    const text = label(i);
    const tip = `${names[i.stage]}: ${i.kind}, batch ${label(i)}, ${short(i.start - origin)}–${short(i.end - origin)} ${unit}`;
    out.push(`<rect class="interval" x="${x0.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${ROW}" fill="${KIND_COLOURS[i.kind]}" stroke="#ffffff" stroke-width="0.5"><title>${escapeXml(tip)}</title></rect>`);
    if (w >= text.length * CHAR + 4) {
      out.push(`<text x="${(x0 + w / 2).toFixed(2)}" y="${y + ROW / 2 + 4}" text-anchor="middle" fill="#ffffff">${text}</text>`);
    }
  }
  const step = tickStep(span, Math.max(2, Math.floor(plot / 70)), unit === 'units');
  out.push(`<line x1="${left}" y1="${axisY}" x2="${left + plot}" y2="${axisY}" stroke="#333333"/>`);
  for (let k = 0; k * step <= span + 1e-9 * span; k++) {
    const tx = x(origin + k * step).toFixed(2);
    out.push(`<line x1="${tx}" y1="${axisY}" x2="${tx}" y2="${axisY + 4}" stroke="#333333"/>`);
    out.push(`<text x="${tx}" y="${axisY + 16}" text-anchor="middle">${short(k * step)}</text>`);
  }
  out.push(`<text x="${left + plot}" y="${axisY + 30}" text-anchor="end" fill="#555555">time (${unit})</text>`);
  const kinds = (Object.keys(KIND_COLOURS) as IntervalKind[]).filter((k) => intervals.some((i) => i.kind === k));
  kinds.forEach((kind, j) => {
    const lx = left + j * 90;
    out.push(`<rect class="legend" x="${lx}" y="${axisY + 22}" width="12" height="12" fill="${KIND_COLOURS[kind]}"/>`);
    out.push(`<text x="${lx + 16}" y="${axisY + 32}">${kind}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
