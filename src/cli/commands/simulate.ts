// `al simulate`: the authors' time-unit schedules (src/pipeline/plan/simulator.ts) as text, JSON and
// an SVG Gantt chart. Pure arithmetic: no backend, no data.
import { ganttSvg } from '../../report/gantt_svg.js';
import { utilisation } from '../../pipeline/plan/utilisation.js';
import { MAX_INTERVALS, SCHEDULES, scheduleSize, simulate, type Schedule, type SimulateOptions } from '../../pipeline/plan/simulator.js';
import { writeFileAtomic } from '../../train/run_dir.js';
import { choice, int, parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';

export const simulateUsage = `Usage: al simulate --schedule bp|naive|gpipe|al --layers L [options]

Time-unit schedules of the authors' slides: one forward of one layer (or stage) on one (micro-)batch
takes 1 unit, one backward 1 unit. Prints the total units, the units per full update (every
parameter updated once) in steady state, the fill before it, and whether gradients are stale.

  --schedule NAME      bp: backprop, nothing overlaps (2(L+1) units per update)
                       naive: a new batch every unit, one update per unit, stale gradients
                       gpipe: L layers on K stages, M micro-batches, then a flush
                       al: L AL layers on K stages, one update per unit after the fill
  --layers L           bp, naive: hidden layers (plus the output layer); gpipe: layers;
                       al: AL layers
  --stages K           gpipe, al: stages to cut the layers into (default L)
  --micro-batches M    gpipe: micro-batches per mini-batch (default 4)
  --batches N          (mini-)batches to simulate (default 4)
  --svg FILE           write a Gantt chart of the schedule to FILE
  --json               print one JSON object as the last line of stdout
  -h, --help           this text

Example: al simulate --schedule gpipe --layers 4 --micro-batches 4 --batches 1
  (15 units per mini-batch instead of 36 without pipelining)
`;

const flags: FlagSpec = {
  schedule: { type: 'string' }, layers: { type: 'string' }, stages: { type: 'string' },
  'micro-batches': { type: 'string' }, batches: { type: 'string' }, svg: { type: 'string' },
  json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

/** Charts with more rects than this are refused: the file would be too big to open. */
export const MAX_SVG_INTERVALS = 50_000;

const LIMIT = 100_000;

export function parseSimulateOptions(argv: string[]): { options: SimulateOptions; svg: string | undefined; json: boolean } | 'help' {
  const { values } = parseFlags(argv, flags);
  if (values['help']) return 'help';
  if (str(values, 'schedule') === undefined) throw new UsageError(`--schedule: required, one of ${SCHEDULES.join(', ')}`);
  const schedule = choice(values, 'schedule', SCHEDULES, 'bp');
  if (str(values, 'layers') === undefined) throw new UsageError('--layers: required, an integer from 1');
  const layers = int(values, 'layers', 1, 1, LIMIT);
  const options: SimulateOptions = { schedule, layers, batches: int(values, 'batches', 4, 1, LIMIT) };
  if (values['stages'] !== undefined) {
    if (schedule !== 'gpipe' && schedule !== 'al') throw new UsageError(`--stages: only applies to gpipe and al (${schedule} uses one device per layer)`);
    options.stages = int(values, 'stages', layers, 1, layers);
  }
  if (values['micro-batches'] !== undefined) {
    if (schedule !== 'gpipe') throw new UsageError('--micro-batches: only applies to --schedule gpipe');
    options.microBatches = int(values, 'micro-batches', 4, 1, LIMIT);
  }
  const { intervals } = scheduleSize(options);
  if (intervals > MAX_INTERVALS) {
    throw new UsageError(`--batches: this schedule would have ${intervals} intervals, more than the ${MAX_INTERVALS} simulated at most (lower --batches, --layers or --micro-batches)`);
  }
  const svg = str(values, 'svg');
  if (svg !== undefined && intervals > MAX_SVG_INTERVALS) {
    throw new UsageError(`--svg: ${intervals} intervals are too many to draw (at most ${MAX_SVG_INTERVALS}); lower --batches`);
  }
  return { options, svg, json: values['json'] === true };
}

function describe(s: Schedule): string {
  const sizes = s.schedule === 'gpipe'
    ? `${s.layers} layers on ${s.stages} stages, ${s.microBatches} micro-batches, ${s.batches} mini-batch${s.batches === 1 ? '' : 'es'}`
    : s.schedule === 'al'
      ? `${s.layers} AL layers on ${s.stages} stages, ${s.batches} batch${s.batches === 1 ? '' : 'es'}`
      : `${s.layers} hidden layer${s.layers === 1 ? '' : 's'} + output (${s.stages} stages), ${s.batches} batch${s.batches === 1 ? '' : 'es'}`;
  return `${s.schedule}: ${sizes}`;
}

function chartTitle(s: Schedule): string {
  const extra = s.schedule === 'gpipe' ? `, M = ${s.microBatches}` : '';
  return `${s.schedule}: L = ${s.layers}, ${s.stages} stages${extra}, ${s.batches} batch${s.batches === 1 ? '' : 'es'}: ${s.totalUnits} units, ${s.unitsPerUpdate} per update${s.stale ? ', stale gradients' : ''}`;
}

export async function simulateCommand(argv: string[], write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const parsed = parseSimulateOptions(argv);
  if (parsed === 'help') {
    write(simulateUsage);
    return 0;
  }
  const s = simulate(parsed.options);
  const use = utilisation(s.intervals, s.stages);
  const perUpdateWork = s.workUnits / s.batches;
  if (parsed.svg !== undefined) {
    try {
      writeFileAtomic(parsed.svg, ganttSvg(s.intervals, { title: chartTitle(s), unit: 'units', stageLabels: s.stageLabels }));
    } catch (error) {
      throw new UsageError(`--svg ${parsed.svg}: cannot write the chart (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  if (parsed.json) {
    write(JSON.stringify({
      schedule: s.schedule, layers: s.layers, stages: s.stages, microBatches: s.microBatches, batches: s.batches,
      totalUnits: s.totalUnits, workUnits: s.workUnits, unitsPerUpdate: s.unitsPerUpdate, sequentialUnitsPerUpdate: perUpdateWork,
      firstUpdate: s.firstUpdate, fillUnits: s.fillUnits, stale: s.stale, maxStaleness: s.maxStaleness,
      utilisation: use.perStage, bubble: use.bubble, svg: parsed.svg ?? null,
    }) + '\n');
    return 0;
  }
  const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
  write([
    describe(s),
    `  total:             ${s.totalUnits} units (the same work without overlap: ${s.workUnits} units)`,
    `  per full update:   ${s.unitsPerUpdate} unit${s.unitsPerUpdate === 1 ? '' : 's'} in steady state, ${perUpdateWork} without pipelining`,
    `  first update:      at unit ${s.firstUpdate} (fill ${s.fillUnits} unit${s.fillUnits === 1 ? '' : 's'})`,
    `  gradients:         ${s.stale ? `stale (an update meets up to ${s.maxStaleness} newer updates of its layer)` : 'exact'}`,
    `  busy per stage:    ${s.stageLabels.map((l, i) => `${l.split(' ')[0]} ${pct(use.perStage[i]!)}`).join(', ')}; bubble ${pct(use.bubble)}`,
    ...(parsed.svg !== undefined ? [`  Gantt chart:       ${parsed.svg}`] : []),
  ].join('\n') + '\n');
  return 0;
}
