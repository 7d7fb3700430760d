// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: the
// browser reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4), so
// a test can load a page, read back what its script did, and see every console message,
// uncaught exception and network request, with no WebSocket client (Node 20 has none built in).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { tempDir } from './temp_dir.js';

/** The Chromium binary: $AL_CHROMIUM, Debian's (package chromium), or null when there is none. */
export function findChromium(): string | null {
  const candidates = [process.env['AL_CHROMIUM'], '/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c)) ?? null;
}

export interface ConsoleEntry {
  /** console.log/warn/error…, 'exception' for an uncaught one, or a Log domain level ('error', 'warning', …) */
  level: string;
  text: string;
}

export interface PageSession {
  /** console messages, exceptions and browser log entries, in order */
  messages: ConsoleEntry[];
  /** every URL the page requested */
  requests: string[];
  evaluate<T>(expression: string): Promise<T>;
  /** a PNG of the whole page, or of the `clip` rectangle (CSS px), for looking at by hand */
  screenshot(clip?: { x: number; y: number; width: number; height: number }): Promise<Buffer>;
  close(): Promise<void>;
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

class Pipe {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: ((method: string, params: Record<string, unknown>, sessionId?: string) => void)[] = [];

  constructor(private readonly input: Writable, output: Readable) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
        const message = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined) {
          const p = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (message.error) p?.reject(new Error(`DevTools: ${message.error.message}`));
          else p?.resolve(message.result ?? {});
        } else if (message.method) {
          for (const l of this.listeners) l(message.method, message.params ?? {}, message.sessionId);
        }
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }

  on(listener: (method: string, params: Record<string, unknown>, sessionId?: string) => void): void {
    this.listeners.push(listener);
  }

  failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

function describe(args: { type: string; value?: unknown; description?: string }[]): string {
  return args.map((a) => (a.value !== undefined ? String(a.value) : a.description ?? a.type)).join(' ');
}

/** Starts Chromium, opens `url` and resolves once its load event has fired. */
export async function openPage(binary: string, url: string, options: { width?: number; height?: number; timeoutMs?: number } = {}): Promise<PageSession> {
  const profile = tempDir('al-chromium-');
  // Chromium also makes $TMPDIR/org.chromium.Chromium.XXXXXX for its singleton socket and leaves it
  // when killed: inside the profile it goes when the profile does.
  const tmp = join(profile, 'tmp');
  mkdirSync(tmp);
  const child: ChildProcess = spawn(binary, [
    '--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--no-default-browser-check', '--disable-extensions',
    '--disable-background-networking', '--remote-debugging-pipe', `--user-data-dir=${profile}`,
    `--window-size=${options.width ?? 1400},${options.height ?? 1000}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, TMPDIR: tmp } });
  const pipe = new Pipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => pipe.failAll(new Error(`chromium exited (${code ?? signal})`)));
  const stop = async (): Promise<void> => {
    // our own process group (detached): the browser and its helper processes
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
    rmSync(profile, { recursive: true, force: true });
  };
  const timeout = options.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`chromium: ${url} did not load within ${timeout} ms`)), timeout);
  });

  try {
    const messages: ConsoleEntry[] = [];
    const requests: string[] = [];
    let session = '';
    let loaded: () => void = () => {};
    const load = new Promise<void>((resolve) => (loaded = resolve));
    pipe.on((method, params, sessionId) => {
      if (sessionId !== session) return;
      if (method === 'Runtime.consoleAPICalled') messages.push({ level: String(params['type']), text: describe(params['args'] as { type: string }[]) });
      else if (method === 'Runtime.exceptionThrown') {
        const d = params['exceptionDetails'] as { text: string; exception?: { description?: string } };
        messages.push({ level: 'exception', text: `${d.text} ${d.exception?.description ?? ''}`.trim() });
      } else if (method === 'Log.entryAdded') {
        const entry = params['entry'] as { level: string; text: string; url?: string };
        messages.push({ level: entry.level, text: `${entry.text}${entry.url ? ` (${entry.url})` : ''}` });
      } else if (method === 'Network.requestWillBeSent') requests.push(String((params['request'] as { url: string }).url));
      else if (method === 'Page.loadEventFired') loaded();
    });
    const ready = (async () => {
      const { targetId } = await pipe.send('Target.createTarget', { url: 'about:blank' });
      ({ sessionId: session } = await pipe.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string });
      for (const domain of ['Runtime', 'Log', 'Page', 'Network']) await pipe.send(`${domain}.enable`, {}, session);
      await pipe.send('Page.navigate', { url }, session);
      await load;
    })();
    await Promise.race([ready, deadline]);
    clearTimeout(timer);
    return {
      messages, requests,
      async evaluate<T>(expression: string): Promise<T> {
        const r = await pipe.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, session) as { result: { value: T }; exceptionDetails?: { text: string } };
        if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.text}`);
        return r.result.value;
      },
      async screenshot(clip?: { x: number; y: number; width: number; height: number }): Promise<Buffer> {
        const metrics = await pipe.send('Page.getLayoutMetrics', {}, session) as { cssContentSize: { width: number; height: number } };
        const { width, height } = metrics.cssContentSize;
        const area = clip ?? { x: 0, y: 0, width, height };
        const r = await pipe.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { ...area, scale: 1 } }, session) as { data: string };
        return Buffer.from(r.data, 'base64');
      },
      async close(): Promise<void> {
        await Promise.race([pipe.send('Browser.close').catch(() => ({})), new Promise((r) => setTimeout(r, 2000))]);
        await stop();
      },
    };
  } catch (error) {
    clearTimeout(timer);
    await stop();
    throw error;
  }
}
