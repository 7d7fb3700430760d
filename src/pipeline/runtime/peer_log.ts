// What a stage process writes about peers it refuses. Anything a peer chose (a message type, a
// reason, a program name) is escaped before it reaches the log, so a peer cannot forge log lines
// or drive the operator's terminal; and a peer that keeps knocking is logged once, not once per
// attempt, so it cannot fill the disk or bury the lines that matter.

// C0 and C1 controls, DEL, and the characters that reorder or break lines in a terminal or editor
// (matching control characters is the point here)
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every unsafe character as a \u escape, cut to `max` characters. */
export function printable(text: string, max = 400): string {
  const escaped = text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

/**
 * Logs the first refusal of each kind per peer, and at most `perMinute` lines a minute in all; the
 * refusals left out are counted, and the count goes with the next line logged.
 */
export class RefusalLog {
  private readonly seen = new Set<string>();
  private windowStart = -Infinity;
  private inWindow = 0;
  private unlogged = 0;

  constructor(private readonly log: (line: string) => void, private readonly perMinute = 20, private readonly now: () => number = Date.now) {}

  /** `peer`: who is refused (an address and key, a connection); `kind`: of refusal; `line`: why, in words */
  refuse(peer: string, kind: string, line: string): void {
    const key = `${peer}\u0000${kind}`;
    if (this.seen.has(key)) return void this.unlogged++;
    // bounded: a flood of distinct peers forgets the oldest rather than growing without limit
    if (this.seen.size >= 10_000) this.seen.clear();
    this.seen.add(key);
    const t = this.now();
    if (t - this.windowStart >= 60_000) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perMinute) return void this.unlogged++;
    this.inWindow++;
    const more = this.unlogged > 0 ? ` (and ${this.unlogged} refusal${this.unlogged === 1 ? '' : 's'} not logged since the previous line)` : '';
    this.unlogged = 0;
    this.log(printable(line) + more);
  }
}
