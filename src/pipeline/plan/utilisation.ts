// Per-stage utilisation of a pipeline schedule: busy time over the span, and the bubble. Generic over
// the interval source: simulated schedules (time units from 0) and traces measured from real runs
// ({stage, batch, kind, start, end} in ms, from any clock origin).
import type { Interval } from './simulator.js';

/** What a chart or a utilisation needs of an interval: a simulated one or one line of a measured trace. */
export type GanttInterval = Pick<Interval, 'stage' | 'batch' | 'kind' | 'start' | 'end'> & { micro?: number };

export interface Utilisation {
  /** busy time / span, per stage */
  perStage: number[];
  /** busy time per stage (overlapping intervals on one stage counted once) */
  busy: number[];
  /** from the earliest start to the latest end */
  span: number;
  /** idle share of all stages over the span: 1 − Σ busy / (stages · span) */
  bubble: number;
}

/**
 * Per-stage utilisation and the bubble fraction. `stages` counts stages that may have no
 * interval at all (an idle worker); by default, the highest stage index + 1.
 */
export function utilisation(intervals: readonly GanttInterval[], stages?: number): Utilisation {
  const count = intervals.reduce((m, i) => Math.max(m, i.stage + 1), stages ?? 0);
  if (intervals.length === 0) return { perStage: new Array<number>(count).fill(0), busy: new Array<number>(count).fill(0), span: 0, bubble: count > 0 ? 1 : 0 };
  let first = Infinity, last = -Infinity;
  const byStage: GanttInterval[][] = Array.from({ length: count }, () => []);
  for (const i of intervals) {
    if (!(i.end >= i.start) || !Number.isInteger(i.stage) || i.stage < 0) {
      throw new RangeError(`utilisation: expected stage >= 0 and end >= start, got stage ${i.stage} [${i.start}, ${i.end}]`);
    }
    first = Math.min(first, i.start);
    last = Math.max(last, i.end);
    byStage[i.stage]!.push(i);
  }
  const span = last - first;
  // Union of intervals per stage: a measured trace may record nested or touching intervals.
  const busy = byStage.map((list) => {
    const sorted = [...list].sort((a, b) => a.start - b.start);
    let total = 0, from = 0, to = -Infinity;
    for (const i of sorted) {
      if (i.start > to) {
        if (to > from) total += to - from;
        from = i.start;
        to = i.end;
      } else to = Math.max(to, i.end);
    }
    return to > from ? total + to - from : total;
  });
  const perStage = busy.map((b) => (span > 0 ? b / span : 0));
  const bubble = span > 0 ? 1 - busy.reduce((s, b) => s + b, 0) / (count * span) : 0;
  return { perStage, busy, span, bubble };
}
