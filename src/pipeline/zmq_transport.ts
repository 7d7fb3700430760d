// ZeroMQ sockets under the stage protocol, for stages in other processes or on other hosts.
//
//   coordinator Dealer ──▶ Router of stage k ◀── Dealer of stage k−1
//
// Every stage process binds one Router. Its coordinator and its upstream neighbour each connect a
// Dealer to it and open with a 'hello' carrying the run's token, the wire version and the
// project's version; the stage answers 'welcome' or 'rejected' (naming which did not match). A connection then carries the same messages as a worker's MessagePort (frames.ts).
// A stage process that dies is noticed by its coordinator's Dealer: the socket monitor reports
// the closed connection at once on one machine, and ZeroMQ's heartbeats end a silent connection
// to another host within HEARTBEAT_TIMEOUT_MS.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dealer } from 'zeromq';
import { packageRoot } from '../backend/load_native.js';
import { FrameError, WIRE_VERSION, decode, encode } from './frames.js';
import type { LinkCallbacks, StageLink } from './transport.js';

export const HEARTBEAT_INTERVAL_MS = 500;
export const HEARTBEAT_TIMEOUT_MS = 3000;
export const CONNECT_TIMEOUT_MS = 5000;

export interface Hello {
  type: 'hello';
  role: 'coordinator' | 'upstream';
  token: string;
  /** the wire format's version (frames.ts) */
  version: number;
  /** the project's version (package.json): another release may build or step layers differently */
  release: string;
}

function readRelease(): string {
  const root = packageRoot(dirname(fileURLToPath(import.meta.url)));
  return root === null ? 'unknown' : (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The version of this copy of associated-learning, which every stage and its coordinator must share. */
export const RELEASE = readRelease();

export const socketOptions = { linger: 0, heartbeatInterval: HEARTBEAT_INTERVAL_MS, heartbeatTimeout: HEARTBEAT_TIMEOUT_MS };

/** Frames as Buffers ZeroMQ takes: views over the same memory, no copy. */
export function buffers(frames: Uint8Array[]): Buffer[] {
  return frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength));
}

/** One send at a time per socket (ZeroMQ's rule), in order; a failed send goes to onError. */
export class SendQueue {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly sendFrames: (frames: Buffer[]) => Promise<void>, private readonly onError: (e: Error) => void) {}

  push(frames: Uint8Array[], onError: (e: Error) => void = this.onError): void {
    const out = buffers(frames);
    this.chain = this.chain.then(() => this.sendFrames(out)).catch((e: unknown) => onError(e as Error));
  }
}

/** Splits "HOST:PORT" (IPv6 in brackets) and checks the port. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new RangeError(`expected HOST:PORT (e.g. 127.0.0.1:5001), got '${address}'`);
  return { host: m[1]!, port };
}

/**
 * A Dealer connected to a stage's Router that has been welcomed with `hello`. Resolves once the
 * stage answered; rejects when it rejects us or gives no answer within `timeoutMs`. After that,
 * its messages go to `callbacks.message`, and a closed connection or a malformed message to
 * `callbacks.fail`.
 */
export async function openPeer(address: string, hello: Hello, timeoutMs: number, callbacks: LinkCallbacks): Promise<{ send(m: { type: string }): void; close(): void; closed(): boolean }> {
  parseAddress(address);
  const dealer = new Dealer(socketOptions);
  let closed = false, welcomed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    dealer.close();
  };
  const queue = new SendQueue((frames) => dealer.send(frames), (e) => {
    if (!closed) callbacks.fail(`sending to ${address} failed: ${e.message}`);
  });
  dealer.events.on('disconnect', () => {
    if (!closed && welcomed) callbacks.fail(`lost the connection to the stage process at ${address} (it exited or its host went silent)`);
  });
  let answer: (error: Error | null) => void = () => {};
  const answered = new Promise<void>((resolve, reject) => {
    answer = (error) => (error ? reject(error) : resolve());
  });
  void (async () => {
    try {
      for await (const frames of dealer) {
        let m: { type: string; reason?: string };
        try {
          m = decode(frames);
        } catch (error) {
          const what = `malformed message from the stage process at ${address}: ${(error as Error).message}`;
          if (welcomed) callbacks.fail(what);
          else answer(new FrameError(what));
          continue;
        }
        if (!welcomed) {
          if (m.type === 'welcome') {
            welcomed = true;
            answer(null);
          } else answer(new Error(`the stage process at ${address} refused us: ${m.reason ?? m.type}`));
          continue;
        }
        callbacks.message(m);
      }
    } catch (error) {
      if (!closed) callbacks.fail(`receiving from ${address} failed: ${(error as Error).message}`);
    }
  })();
  dealer.connect(`tcp://${address}`);
  queue.push(encode(hello));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cannot reach a stage process at ${address} within ${timeoutMs / 1000} s (is 'al stage --listen ${address}' running there?)`)), timeoutMs);
  });
  try {
    await Promise.race([answered, timeout]);
  } catch (error) {
    close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { send: (m) => queue.push(encode(m)), close, closed: () => closed };
}

/** The coordinator's link to a stage process. */
export async function connectStageProcess(address: string, token: string, callbacks: LinkCallbacks, timeoutMs = CONNECT_TIMEOUT_MS): Promise<StageLink> {
  let stopped: (() => void) | null = null;
  const peer = await openPeer(address, { type: 'hello', role: 'coordinator', token, version: WIRE_VERSION, release: RELEASE }, timeoutMs, {
    message: (m) => {
      if (m.type === 'stopped') stopped?.();
      else if (m.type !== 'ping') callbacks.message(m);
    },
    fail: (message) => {
      if (stopped === null) callbacks.fail(message);
    },
  });
  return {
    where: address,
    post: (m) => peer.send(m),
    async stop() {
      const done = new Promise<void>((resolve) => (stopped = resolve));
      peer.send({ type: 'stop' });
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
      await Promise.race([done, timeout]);
      peer.close();
    },
    async terminate() {
      stopped ??= () => {};
      peer.close();
    },
  };
}
