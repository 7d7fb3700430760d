// Scatter plots of 2-D embeddings (t-SNE) as standalone SVG: one circle per point, filled with
// its class's colour, drawn in the order given (a seeded sample, so no class sits on top of the
// others everywhere); equal scales on both axes, since t-SNE distances mean the same in every
// direction but the coordinates themselves mean nothing (no axes, a frame only); a legend of the
// class colours beside the plot, in columns when there are many classes.
//
// Colours (classColours): 10 well-separated hues for up to 10 classes; 20 (the same 10, then 10
// lighter and darker ones) up to 20; beyond that a hue wheel stepped by the golden angle with
// three lightness levels, so classes with neighbouring numbers never get neighbouring colours.

export interface ScatterOptions {
  title: string;
  /** lines under the title */
  subtitle?: string | readonly string[];
  /** number of classes (legend entries; colours); default: the highest label + 1 */
  classes?: number;
  /** legend text of class c; default its number */
  classNames?: readonly string[];
  /** side of the square plot area in px (default 560) */
  size?: number;
}

const TEN = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#79706e'];
const TEN_MORE = ['#a0cbe8', '#ffbe7d', '#8b1a1a', '#1b5e5a', '#8cd17d', '#8a6d00', '#d4a6c8', '#c2185b', '#d7b5a6', '#17202a'];
const GOLDEN_ANGLE = 137.50776405003785;
const LIGHTNESS = [0.45, 0.62, 0.32];

function hex(r: number, g: number, b: number): string {
  return '#' + [r, g, b].map((v) => Math.round(255 * v).toString(16).padStart(2, '0')).join('');
}

/** HSL (h in degrees, s and l in 0..1) to #rrggbb: hex colours read in every SVG viewer. */
export function hslToHex(h: number, s: number, l: number): string {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  return hex(r + m, g + m, b + m);
}

/** One colour per class, #rrggbb, all different. */
export function classColours(classes: number): string[] {
  if (!Number.isSafeInteger(classes) || classes < 1) throw new RangeError(`classColours: expected an integer >= 1 for classes, got ${classes}`);
  if (classes <= 10) return TEN.slice(0, classes);
  if (classes <= 20) return [...TEN, ...TEN_MORE].slice(0, classes);
  return Array.from({ length: classes }, (_, c) => hslToHex(c * GOLDEN_ANGLE, 0.7, LIGHTNESS[c % LIGHTNESS.length]!));
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const LEFT = 12, TITLE_TOP = 30, LINE = 16, PAD = 12, FONT = 11, LEGEND_ROW = 16, LEGEND_SWATCH = 10, CHAR = 6.6;

/**
 * The scatter plot of `points` [n, 2] (x, y pairs) with `labels` [n] (0..classes-1) as an SVG
 * document: one `<circle class="point">` per point, one `<rect class="legend">` per class.
 */
export function scatterSvg(points: ArrayLike<number>, labels: ArrayLike<number>, options: ScatterOptions): string {
  const n = labels.length;
  if (points.length !== 2 * n) throw new RangeError(`scatterSvg: expected 2 × ${n} coordinates for points (one x, y pair per label), got ${points.length}`);
  let top = -1;
  for (let i = 0; i < n; i++) top = Math.max(top, labels[i]!);
  const classes = options.classes ?? top + 1;
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw new RangeError(`scatterSvg: expected labels 0..${classes - 1}, got ${label} at point ${i}`);
    if (!Number.isFinite(points[2 * i]!) || !Number.isFinite(points[2 * i + 1]!)) {
      throw new RangeError(`scatterSvg: expected finite coordinates, got (${points[2 * i]}, ${points[2 * i + 1]}) at point ${i}`);
    }
  }
  const colours = classColours(Math.max(classes, 1));
  const subtitle = options.subtitle === undefined ? [] : typeof options.subtitle === 'string' ? [options.subtitle] : options.subtitle;
  const TOP = TITLE_TOP + LINE * subtitle.length + 8;
  const size = options.size ?? 560;
  const names = Array.from({ length: classes }, (_, c) => options.classNames?.[c] ?? `${c}`);

  // one scale for both axes, the points centred in the square
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, points[2 * i]!); maxX = Math.max(maxX, points[2 * i]!);
    minY = Math.min(minY, points[2 * i + 1]!); maxY = Math.max(maxY, points[2 * i + 1]!);
  }
  const span = n > 0 ? Math.max(maxX - minX, maxY - minY) || 1 : 1;
  const inner = size - 2 * PAD;
  const scale = inner / span;
  const x0 = LEFT + PAD + (inner - (n > 0 ? maxX - minX : 0) * scale) / 2 - (n > 0 ? minX : 0) * scale;
  const y0 = TOP + PAD + (inner - (n > 0 ? maxY - minY : 0) * scale) / 2 + (n > 0 ? maxY : 0) * scale;
  const radius = n > 2000 ? 1.6 : n > 500 ? 2.2 : 3;

  const perColumn = Math.max(1, Math.floor(size / LEGEND_ROW));
  const columns = Math.ceil(classes / perColumn);
  const columnWidth = LEGEND_SWATCH + 10 + Math.ceil(Math.max(...names.map((s) => s.length), 1) * CHAR);
  const width = LEFT + size + 16 + columns * columnWidth + PAD;
  const height = TOP + size + PAD;

  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT}">`,
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...subtitle.map((line, i) => `<text x="${LEFT}" y="${TITLE_TOP + 12 + LINE * i}" fill="#555555">${escapeXml(line)}</text>`),
    `<rect class="frame" x="${LEFT + 0.5}" y="${TOP + 0.5}" width="${size - 1}" height="${size - 1}" fill="none" stroke="#cccccc"/>`,
    `<g fill-opacity="0.8">`,
  ];
  for (let i = 0; i < n; i++) {
    const cx = (x0 + points[2 * i]! * scale).toFixed(1), cy = (y0 - points[2 * i + 1]! * scale).toFixed(1);
    out.push(`<circle class="point" cx="${cx}" cy="${cy}" r="${radius}" fill="${colours[labels[i]!]}"/>`);
  }
  out.push('</g>');
  names.forEach((name, c) => {
    const lx = LEFT + size + 16 + Math.floor(c / perColumn) * columnWidth;
    const ly = TOP + (c % perColumn) * LEGEND_ROW;
    out.push(`<rect class="legend" x="${lx}" y="${ly + 2}" width="${LEGEND_SWATCH}" height="${LEGEND_SWATCH}" fill="${colours[c]}"/>`);
    out.push(`<text x="${lx + LEGEND_SWATCH + 5}" y="${ly + 11}">${escapeXml(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
