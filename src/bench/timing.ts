// Timing helpers: warm up, then repeat until both a minimum count and a minimum time are reached,
// and report the median of per-round rates (robust to the shared machine's noise).
export interface TimingOptions {
  warmup: number;
  minRounds: number;
  minSeconds: number;
}

export const FULL: TimingOptions = { warmup: 3, minRounds: 5, minSeconds: 1.5 };
export const QUICK: TimingOptions = { warmup: 1, minRounds: 3, minSeconds: 0.3 };

/** Seconds per call of fn: the median over rounds. */
export function secondsPerCall(fn: () => void, options: TimingOptions): number {
  for (let i = 0; i < options.warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < options.minRounds || (performance.now() - start) / 1000 < options.minSeconds) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** The middle value; the mean of the two middle ones for an even count. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
