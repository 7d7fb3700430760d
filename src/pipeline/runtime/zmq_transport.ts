// ZeroMQ sockets under the stage protocol, for stages in other processes or on other hosts.
//
//   coordinator Dealer ──▶ Router of stage k ◀── Dealer of stage k−1
//
// Every stage process binds one Router. Its coordinator and its upstream neighbour each connect a
// Dealer to it and open with a 'hello' carrying the run's token; the stage answers 'welcome' or
// 'rejected'. A connection then carries the same messages as a worker's MessagePort (frames.ts).
// A stage process that dies is noticed by its coordinator's Dealer: the socket monitor reports
// the closed connection at once on one machine, and ZeroMQ's heartbeats end a silent connection
// to another host within HEARTBEAT_TIMEOUT_MS.
//
// Every connection is CurveZMQ (curve.ts) unless both ends are on loopback and were told to run
// without it; each side's keys are given with the connection.
import { Dealer, type SocketOptions } from 'zeromq';
import { checkPlaintext, clientOptions, type ClientCurve } from './curve.js';
import { FrameError, HELLO_LIMITS, MAX_WIRE_FRAME, RUN_LIMITS, WIRE_VERSION, WireVersionError, decodeWire, encodeWire } from './frames.js';
import { SERVER_REPLIES, type Hello, type ServerReply } from './messages.js';
import { parseMessage } from './parse.js';
import { printable } from './peer_log.js';
import type { LinkCallbacks, StageLink } from './transport.js';

export const HEARTBEAT_INTERVAL_MS = 500;
export const HEARTBEAT_TIMEOUT_MS = 3000;
export const CONNECT_TIMEOUT_MS = 5000;

// maxMessageSize: a frame above one piece (frames.ts) ends the connection before ZeroMQ allocates
// for it, also while a CURVE handshake is still going on
export const socketOptions = { linger: 0, heartbeatInterval: HEARTBEAT_INTERVAL_MS, heartbeatTimeout: HEARTBEAT_TIMEOUT_MS, maxMessageSize: MAX_WIRE_FRAME };

/**
 * Time this thread spends in the transport: encoding and decoding messages (frames.ts, which
 * copies every received tensor into a buffer of its own) and handing frames to ZeroMQ (the part of
 * a send that runs on the caller's thread). Not in it: ZeroMQ's I/O thread, which moves the bytes
 * through the kernel beside the JS thread, and the native making of a received message's Buffers.
 * A stage process adds it to its 'done' reports, so the coordinator can set it beside step time.
 */
export class WireClock {
  private ns = 0n;

  time<T>(fn: () => T): T {
    const start = process.hrtime.bigint();
    try {
      return fn();
    } finally {
      this.ns += process.hrtime.bigint() - start;
    }
  }

  /** ms spent since the previous take */
  take(): number {
    const ms = Number(this.ns) / 1e6;
    this.ns = 0n;
    return ms;
  }
}

/** Frames as Buffers ZeroMQ takes: views over the same memory, no copy. */
export function buffers(frames: Uint8Array[]): Buffer[] {
  return frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength));
}

/**
 * One send at a time per socket (ZeroMQ's rule), in order; a failed send goes to onError.
 *
 * A message goes to ZeroMQ at once, on the caller's stack, whenever nothing is queued before it
 * and the socket is not still busy with an earlier send; only otherwise does it wait for that
 * send's promise. A stage posts its upstream credit just before a step that holds its thread for
 * hundreds of milliseconds: a credit left to a promise callback would leave only after that step
 * and starve the stage upstream (measured: stage processes at 0.76–0.81x of worker threads).
 */
export class SendQueue {
  /** settles when the last send handed to ZeroMQ did; never rejects */
  private last: Promise<void> = Promise.resolve();
  /** messages waiting behind `last`, not yet handed to ZeroMQ */
  private waiting = 0;
  constructor(private readonly sendFrames: (frames: Buffer[]) => Promise<void>, private readonly onError: (e: Error) => void) {}

  push(frames: Uint8Array[], onError: (e: Error) => void = this.onError): void {
    const out = buffers(frames);
    const caught = (p: Promise<void>): Promise<void> => p.catch((e: unknown) => onError(e as Error));
    if (this.waiting === 0) {
      try {
        this.last = caught(this.sendFrames(out));
        return;
      } catch (error) {
        // EBUSY: an earlier send waits for the socket to become writable; queue behind it
        if ((error as { code?: string }).code !== 'EBUSY') return onError(error as Error);
      }
    }
    this.waiting++;
    // a send that throws at once (a closed socket) rejects this link: caught like any failure, so
    // `last` never rejects and the messages behind still go
    this.last = caught(this.last.then(() => {
      this.waiting--;
      return this.sendFrames(out);
    }));
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
 * Turns a failed CURVE handshake into an answer naming the cause: a stage that does not allow our
 * key says so (ZAP refused it); one that drops the handshake without a word holds another key than
 * the one we expect of it; one that speaks no CURVE (or only CURVE) fails on the mechanism.
 */
function watchHandshake(dealer: Dealer, address: string, curve: ClientCurve | undefined, fail: (error: Error) => void): void {
  let drops = 0, shook = false;
  dealer.events.on('handshake', () => (shook = true));
  dealer.events.on('handshake:error:auth', () => fail(new Error(`the stage process at ${address} refused our public key ${curve?.keys.publicKey ?? ''}: it is not among the keys it allows (its --allow, or its own key)`)));
  dealer.events.on('handshake:error:protocol', (event) => {
    if ((event.error as { code?: string }).code !== 'ERR_ZMTP_MECHANISM_MISMATCH') return;
    fail(new Error(curve
      ? `the stage process at ${address} does not encrypt (it was started with --insecure); start it with --key, or give --insecure here too (loopback only)`
      : `the stage process at ${address} requires encryption (CURVE): give its coordinators a key (--key) instead of --insecure`));
  });
  dealer.events.on('disconnect', () => {
    if (curve && !shook && ++drops >= 2) fail(new Error(`the stage process at ${address} ends our CURVE handshake: its public key is not ${curve.serverKey} (check --stage-key)`));
  });
}

/** A Dealer for `address`, encrypted with `curve`, or plaintext where loopback allows it. */
function newDealer(address: string, curve: ClientCurve | undefined): Dealer {
  if (!curve) checkPlaintext(address);
  const options: Partial<SocketOptions<Dealer>> = { ...socketOptions, ...(curve ? clientOptions(curve) : {}) };
  return new Dealer(options);
}

/**
 * A Dealer connected to a stage's Router that has been welcomed with `hello`. Resolves once the
 * stage answered; rejects when it rejects us (or our key) or gives no answer within `timeoutMs`.
 * After that, its messages go to `callbacks.message`, and a closed connection or a malformed
 * message to `callbacks.fail`.
 */
export async function openPeer(address: string, hello: Hello, timeoutMs: number, callbacks: LinkCallbacks, clock = new WireClock(), curve?: ClientCurve): Promise<{ send(m: { type: string }): void; close(): void; closed(): boolean }> {
  parseAddress(address);
  const dealer = newDealer(address, curve);
  let closed = false, welcomed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    dealer.close();
  };
  const queue = new SendQueue((frames) => clock.time(() => dealer.send(frames)), (e) => {
    if (!closed) callbacks.fail(`sending to ${address} failed: ${e.message}`);
  });
  dealer.events.on('disconnect', () => {
    if (!closed && welcomed) callbacks.fail(`lost the connection to the stage process at ${address} (it exited or its host went silent)`);
  });
  let answer: (error: Error | null) => void = () => {};
  const answered = new Promise<void>((resolve, reject) => {
    answer = (error) => (error ? reject(error) : resolve());
  });
  watchHandshake(dealer, address, curve, (error) => {
    if (!welcomed) answer(error);
  });
  void (async () => {
    try {
      for await (const frames of dealer) {
        let m: { type: string };
        try {
          m = clock.time(() => decodeWire(frames, welcomed ? RUN_LIMITS : HELLO_LIMITS));
          // before the welcome, only the stage process's answer to our hello may come
          if (!welcomed) m = parseMessage('stage process answer', SERVER_REPLIES, m);
        } catch (error) {
          const what = error instanceof WireVersionError
            ? `the stage process at ${address} speaks wire version ${error.version}, this al speaks version ${WIRE_VERSION}: run the same version of al on every host`
            : `malformed message from the stage process at ${address}: ${printable((error as Error).message)}`;
          if (welcomed) callbacks.fail(what);
          else answer(new FrameError(what));
          continue;
        }
        if (!welcomed) {
          const reply = m as ServerReply;
          if (reply.type === 'welcome') {
            welcomed = true;
            answer(null);
          } else answer(new Error(`the stage process at ${address} refused us: ${printable(reply.type === 'rejected' ? reply.reason : reply.type)}`));
          continue;
        }
        callbacks.message(m);
      }
    } catch (error) {
      if (!closed) callbacks.fail(`receiving from ${address} failed: ${(error as Error).message}`);
    }
  })();
  dealer.connect(`tcp://${address}`);
  queue.push(encodeWire(hello));
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
  return { send: (m) => clock.time(() => queue.push(encodeWire(m))), close, closed: () => closed };
}

/** How long the coordinator waits for a stage process to confirm a stop. */
export const STOP_TIMEOUT_MS = 10_000;
/** The same after a failure, when the stage may be stuck: it also notices the closed connection. */
export const STOP_AFTER_FAILURE_MS = 2000;

/** The coordinator's link to a stage process: encrypted with `curve` (our keys, the stage's public key), else plaintext on loopback. */
export async function connectStageProcess(address: string, token: string, callbacks: LinkCallbacks, timeoutMs = CONNECT_TIMEOUT_MS, curve?: ClientCurve): Promise<StageLink> {
  // lost: the connection failed (the stage is gone, nothing to stop); closing: being stopped, so
  // a failure of the connection is no longer the run's
  let lost = false, closing = false;
  let stopped: (() => void) | null = null;
  const peer = await openPeer(address, { type: 'hello', role: 'coordinator', token, version: WIRE_VERSION }, timeoutMs, {
    message: (m) => {
      if (m.type === 'stopped') stopped?.();
      else if (m.type !== 'ping') callbacks.message(m);
    },
    fail: (message) => {
      lost = true;
      if (closing) stopped?.();
      else callbacks.fail(message);
    },
  }, undefined, curve);
  /** Asks the stage to end the run, waits (bounded) for its 'stopped', then closes the connection. */
  const stop = async (waitMs: number): Promise<void> => {
    closing = true;
    if (!lost) {
      const done = new Promise<void>((resolve) => (stopped = resolve));
      peer.send({ type: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    peer.close();
  };
  return {
    where: address,
    post: (m) => peer.send(m),
    stop: () => stop(STOP_TIMEOUT_MS),
    // a stage process outlives the run: it is told to end it, so that it is free (and idle) for
    // the next coordinator by the time this one has given up, e.g. for `al train --resume`
    terminate: () => stop(STOP_AFTER_FAILURE_MS),
  };
}
