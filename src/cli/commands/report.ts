// `al report RUN_DIR... --out report.html`: the runs' curves, analyses and timelines as one
// self-contained HTML page (src/report/). Reads files only: no backend, no data set.
import { readFileSync } from 'node:fs';
import { packageRoot } from '../../backend/load_native.js';
import { chartLibrary } from '../../report/chart_library.js';
import { buildReport } from '../../report/report.js';
import { loadRuns } from '../../report/run_files.js';
import { writeFileAtomic } from '../../train/run_dir.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';

export const reportUsage = `Usage: al report RUN_DIR... --out report.html [--title T]

One self-contained HTML page (the charting library and every number inline: it opens without a
network) about one or more run directories of al train:

  loss and accuracy curves (test accuracy of every run on one chart), training throughput;
  AL runs: each layer's associated and autoencoder loss per epoch (log scale);
  runs trained with --log-every (steps.jsonl): each AL layer's losses (BP: the training loss)
    against the step, and test accuracy against training time;
  from analysis.json (written by al analyze RUN_DIR): t-SNE scatter plots
    (runs side by side), the class-distance table, accuracy by exit layer, projected throughput;
  pipelined runs with trace.json (al train ... --pipeline --trace): the measured Gantt chart
    beside the simulated schedule of the authors' slides, and each stage's utilisation;
  the settings and machine of each run.

  --out FILE     where the page goes (required; written atomically)
  --title T      the page's title (default: the runs' names)
  --json         print one JSON object as the last line of stdout
  -h, --help     this text

Example: al report runs/bp runs/al --out report.html
`;

const flags: FlagSpec = { out: { type: 'string' }, title: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

function projectVersion(): Record<string, string> {
  const root = packageRoot(fileURLToPath(import.meta.url));
  if (root === null) return {};
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
    return { [manifest.name]: manifest.version };
  } catch {
    return {};
  }
}

export async function reportCommand(argv: string[], write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, true);
  if (values['help']) {
    write(reportUsage);
    return 0;
  }
  const out = str(values, 'out');
  if (out === undefined || out.trim() === '') throw new UsageError('--out: required, the HTML file to write');
  if (positionals.length === 0) throw new UsageError('expected at least one RUN_DIR');
  const title = str(values, 'title');
  if (title !== undefined && title.trim() === '') throw new UsageError('--title: expected a non-empty title');
  const runs = loadRuns(positionals);
  const report = buildReport(runs, { title, library: chartLibrary(), versions: { ...projectVersion(), 'Node.js': process.version } });
  try {
    writeFileAtomic(out, report.html);
  } catch (error) {
    throw new UsageError(`--out ${out}: cannot write the report (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const bytes = Buffer.byteLength(report.html);
  if (values['json']) {
    write(JSON.stringify({ out, runs: runs.map((r) => r.dir), charts: report.charts, gantt: report.gantt, bytes }) + '\n');
  } else {
    write(`${out}: ${runs.length} run${runs.length === 1 ? '' : 's'}, ${report.charts} charts, ${report.gantt} Gantt charts, ${(bytes / 1024).toFixed(0)} kB\n`);
  }
  return 0;
}
