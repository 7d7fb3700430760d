// Line charts as standalone SVG (al reproduce time-to-accuracy: test accuracy against the
// training clock): one polyline per series, an optional marker per series (where it first reached
// the target), an optional dashed horizontal reference line (the target), axes with 1-2-5 ticks
// and a legend. Points outside the y range are clipped to the plot, not moved: the range can zoom
// in on the target while the early, low accuracies leave through the bottom edge.

export interface LineSeries {
  label: string;
  colour: string;
  /** x, y pairs in data units, in drawing order */
  points: readonly (readonly [number, number])[];
  /** a circle at this point (e.g. the first crossing of the reference line) */
  marker?: readonly [number, number] | undefined;
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  /** y range; default the points' */
  yMin?: number;
  yMax?: number;
  /** a dashed horizontal line at this y, labelled */
  reference?: { y: number; label: string };
  width?: number;
  height?: number;
  /** the id of the plot's clip path: unique per chart when several share a page (default 'plot') */
  clipId?: string;
}

const LEFT = 64, RIGHT = 24, TOP = 56, FONT = 11, LEGEND_ROW = 18;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A tick step of 1, 2 or 5 × 10^k giving about `count` ticks over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * power;
}

const short = (x: number): string => String(Number(x.toPrecision(6)));

/** Ticks at multiples of a nice step from lo to hi. */
function ticks(lo: number, hi: number, count: number): number[] {
  const step = niceStep(hi - lo, count);
  const out: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * step; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** The chart as an SVG document: one `<polyline class="series">` per series with points, one `<circle class="marker">` per marker. */
export function lineChartSvg(series: readonly LineSeries[], options: LineChartOptions): string {
  const width = options.width ?? 880;
  const legendHeight = LEGEND_ROW * Math.ceil(series.length / 2) + 8;
  const height = options.height ?? 420 + legendHeight;
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map((p) => p[0]));
  const ys = all.map((p) => p[1]).concat(options.reference ? [options.reference.y] : []);
  const yMin = options.yMin ?? (ys.length > 0 ? Math.min(...ys) : 0);
  const yMax0 = options.yMax ?? (ys.length > 0 ? Math.max(...ys) : 1);
  const yMax = yMax0 > yMin ? yMax0 : yMin + 1;
  const plotW = width - LEFT - RIGHT, plotH = height - TOP - 48 - legendHeight;
  const x = (v: number): string => (LEFT + (v / xMax) * plotW).toFixed(2);
  const y = (v: number): string => (TOP + (1 - (v - yMin) / (yMax - yMin)) * plotH).toFixed(2);
  const clip = escapeXml(options.clipId ?? 'plot');
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT}">`,
    `<defs><clipPath id="${clip}"><rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}"/></clipPath></defs>`,
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="20" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...(options.subtitle ? [`<text x="${LEFT}" y="38" fill="#555555">${escapeXml(options.subtitle)}</text>`] : []),
    `<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`,
  ];
  for (const t of ticks(0, xMax, Math.max(2, Math.floor(plotW / 80)))) {
    out.push(`<line x1="${x(t)}" y1="${TOP}" x2="${x(t)}" y2="${TOP + plotH}" stroke="#eeeeee"/>`);
    out.push(`<text x="${x(t)}" y="${TOP + plotH + 16}" text-anchor="middle">${short(t)}</text>`);
  }
  for (const t of ticks(yMin, yMax, Math.max(2, Math.floor(plotH / 40)))) {
    out.push(`<line x1="${LEFT}" y1="${y(t)}" x2="${LEFT + plotW}" y2="${y(t)}" stroke="#eeeeee"/>`);
    out.push(`<text x="${LEFT - 6}" y="${Number(y(t)) + 4}" text-anchor="end">${short(t)}</text>`);
  }
  out.push(`<text x="${LEFT + plotW}" y="${TOP + plotH + 34}" text-anchor="end" fill="#555555">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#555555">${escapeXml(options.yLabel)}</text>`);
  if (options.reference) {
    const r = options.reference;
    out.push(`<line class="reference" x1="${LEFT}" y1="${y(r.y)}" x2="${LEFT + plotW}" y2="${y(r.y)}" stroke="#777777" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${LEFT + plotW - 4}" y="${Number(y(r.y)) - 4}" text-anchor="end" fill="#555555">${escapeXml(r.label)}</text>`);
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    const path = s.points.map((p) => `${x(p[0])},${y(p[1])}`).join(' ');
    out.push(`<polyline class="series" clip-path="url(#${clip})" fill="none" stroke="${s.colour}" stroke-width="1.8" points="${path}"><title>${escapeXml(s.label)}</title></polyline>`);
    if (s.marker) out.push(`<circle class="marker" cx="${x(s.marker[0])}" cy="${y(s.marker[1])}" r="4" fill="${s.colour}"><title>${escapeXml(`${s.label}: ${short(s.marker[0])}`)}</title></circle>`);
  }
  series.forEach((s, i) => {
    const lx = LEFT + (i % 2) * (plotW / 2), ly = TOP + plotH + 48 + Math.floor(i / 2) * LEGEND_ROW;
    out.push(`<rect class="legend" x="${lx}" y="${ly - 9}" width="14" height="4" fill="${s.colour}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly - 3}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
