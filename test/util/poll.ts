// Waiting for a condition another process brings about (a file written, a log line, an exit):
// polled, never a fixed sleep, and bounded, failing with what was seen.

/** Polls `cond` every 10 ms; fails after `timeoutMs` with `what()`. */
export async function until(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
