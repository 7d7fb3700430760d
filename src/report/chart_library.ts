// The charting library inlined into every report, so the page opens without a network: Chart.js
// (npm chart.js, MIT). Why Chart.js: it is the most used and actively kept charting library on
// npm, its UMD bundle is one self-registering file of about 200 kB with no install scripts, and
// it has every chart the report needs (line, scatter, bar, logarithmic axes) drawn on canvas, so
// a t-SNE of thousands of points stays fast. uPlot is smaller but has no bar or categorical
// scatter charts of its own; ECharts and Plotly are 1–4 MB.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ReportError } from './errors.js';

export interface ChartLibrary {
  name: string;
  version: string;
  /** the UMD bundle: defines the global `Chart` with every chart type registered */
  source: string;
}

let cached: ChartLibrary | null = null;

/** Chart.js's UMD bundle, read from node_modules (its package exports do not list the file, so it is found beside the main entry). */
export function chartLibrary(): ChartLibrary {
  if (cached !== null) return cached;
  let file: string;
  try {
    file = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
  } catch (error) {
    throw new ReportError(`chart.js: not installed (${(error as Error).message}); run npm ci`);
  }
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReportError(`${file}: cannot read Chart.js's bundle (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run npm ci`);
  }
  // Inside <script>, "</script" would end the element early whatever the JavaScript means.
  if (/<\/script|<!--/i.test(source)) throw new ReportError(`${file}: contains '</script' or '<!--' and cannot be inlined into a page`);
  const version = /Chart\.js v(\d+\.\d+\.\d+\S*)/.exec(source.slice(0, 300))?.[1] ?? 'unknown';
  cached = { name: 'Chart.js', version, source };
  return cached;
}
