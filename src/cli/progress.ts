// A one-line progress bar on stderr, redrawn in place; silent when stderr is not a terminal
// (CI logs and pipes get the per-epoch lines on stdout instead).
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, '0'), ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressBar {
  // -Infinity: the first update always draws, even within 100 ms of the process start (performance.now()'s origin)
  private lastDraw = Number.NEGATIVE_INFINITY;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly width = 24) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** Redraws at most ten times a second (always when done = total). */
  update(label: string, done: number, total: number, details: string, etaSeconds: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const filled = total > 0 ? Math.min(this.width, Math.round((done / total) * this.width)) : 0;
    const bar = '='.repeat(filled) + (filled < this.width ? '>' : '') + ' '.repeat(Math.max(0, this.width - filled - 1));
    this.stream.write(`\r${label} [${bar}] ${done}/${total} ${details} ETA ${formatDuration(etaSeconds)}\x1b[K`);
  }

  clear(): void {
    if (this.enabled) this.stream.write('\r\x1b[K');
  }
}

/**
 * Counts `total` steps of unequal, unknown length on `progress` (a bench's runs): each step() names
 * what just finished, and the ETA is the mean pace so far times the steps left.
 */
export function stepProgress(progress: ProgressBar, label: string, total: number, now: () => number = () => performance.now()): { step(finished: string): void } {
  const start = now();
  let done = 0;
  progress.update(label, 0, total, '', Number.NaN);
  return {
    step(finished) {
      done++;
      const seconds = (now() - start) / 1000;
      progress.update(label, done, total, finished, (seconds / done) * (total - done));
    },
  };
}
