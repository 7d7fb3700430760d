// ZeroMQ against gRPC (@grpc/grpc-js, bidirectional streaming) for what a pipeline stage sends:
// batches of the MLP (s and t, [128, 1024] float32 each: 1 MB and a header, encoded by frames.ts)
// going downstream, a credit coming back for each one taken. Sender (this process) and receiver
// (a child process, transport_peer.ts) are separate processes on 127.0.0.1, and the receiver
// decodes every batch as a stage does (copying s and t out), so both pay the codec of a real run.
// gRPC carries one buffer per message, so its batches are packed into one (a copy ZeroMQ's
// multipart messages do not need); no protobuf: the service passes Buffers through.
//
// Measured, each transport in turn within every repetition (the order alternating), medians:
//   throughput: a stream of batches with 2 in flight (the pipeline's queue capacity), MB/s
//   batch round trip: one batch, then wait for its credit, ms (median and 90th percentile)
//   small round trip: a credit-sized message each way, µs
// gRPC is a devDependency: where it is not installed, only ZeroMQ is measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Dealer } from 'zeromq';
import { decode, encode } from '../pipeline/runtime/frames.js';
import { stopChildren } from '../pipeline/runtime/local_stages.js';
import type { BatchMessage } from '../pipeline/runtime/messages.js';
import { SendQueue, socketOptions } from '../pipeline/runtime/zmq_transport.js';
import { median } from './timing.js';

type Grpc = typeof import('@grpc/grpc-js');
export type TransportName = 'zeromq' | 'grpc';

/** @grpc/grpc-js, or why it cannot be loaded. */
export async function loadGrpc(): Promise<Grpc | { unavailable: string }> {
  try {
    return await import('@grpc/grpc-js');
  } catch (error) {
    return { unavailable: `@grpc/grpc-js cannot be loaded (${(error as Error).message.split('\n')[0]}); it is a devDependency: npm install --include=dev` };
  }
}

const passThrough = (b: Buffer): Buffer => b;

/** One bidirectional streaming method whose messages are raw Buffers. */
export const STREAM_SERVICE = {
  stream: {
    path: '/al.bench.Stage/Stream', requestStream: true, responseStream: true,
    requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough,
  },
};

/** Room for a batch of any model here (gRPC's default receive limit is 4 MB). */
export const GRPC_OPTIONS = { 'grpc.max_receive_message_length': 256 << 20, 'grpc.max_send_message_length': 256 << 20 };

/** Frames as one buffer: count, lengths, then the bytes (all uint32 little-endian). */
export function pack(frames: readonly Uint8Array[]): Buffer {
  const head = Buffer.alloc(4 * (1 + frames.length));
  head.writeUInt32LE(frames.length, 0);
  frames.forEach((f, i) => head.writeUInt32LE(f.byteLength, 4 * (i + 1)));
  return Buffer.concat([head, ...frames]);
}

/** The frames of a packed buffer, as views (no copy). */
export function unpack(buffer: Uint8Array): Uint8Array[] {
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const count = view.byteLength >= 4 ? view.readUInt32LE(0) : -1;
  if (count < 0 || view.byteLength < 4 * (1 + count)) throw new RangeError(`packed message of ${view.byteLength} bytes cannot hold its frame table`);
  let at = 4 * (1 + count);
  const frames = Array.from({ length: count }, (_, i) => {
    const length = view.readUInt32LE(4 * (i + 1));
    if (at + length > view.byteLength) throw new RangeError(`packed frame ${i} of ${length} bytes runs past the message (${view.byteLength} bytes)`);
    const frame = buffer.subarray(at, at + length);
    at += length;
    return frame;
  });
  if (at !== view.byteLength) throw new RangeError(`packed message has ${view.byteLength - at} bytes after its frames`);
  return frames;
}

/** The frames a stage sends downstream for one batch of the MLP: s and t of [batch, width]. */
export function batchFrames(batch: number, width: number): Uint8Array[] {
  const tensor = () => ({ data: new Float32Array(batch * width).fill(0.5), shape: [batch, width] });
  const m: BatchMessage = { type: 'batch', index: 0, epoch: 0, epochs: 1, s: tensor(), t: tensor() };
  return encode(m);
}

/** The sender's side of one connection: sends a message, calls back on each reply or on failure. */
interface Sender {
  send(frames: Uint8Array[]): void;
  listen(reply: () => void, fail: (e: Error) => void): void;
  close(): void;
}

/** A Sender's listeners, set for each pattern in turn. */
class Listeners {
  reply = (): void => {};
  fail = (_e: Error): void => {};
  set(reply: () => void, fail: (e: Error) => void): void {
    this.reply = reply;
    this.fail = fail;
  }
}

function zmqSender(port: number): Sender {
  const dealer = new Dealer(socketOptions);
  const on = new Listeners();
  const queue = new SendQueue((frames) => dealer.send(frames), (e) => on.fail(e));
  let closed = false;
  void (async () => {
    for await (const frames of dealer) {
      decode(frames);
      on.reply();
    }
  })().catch((e: unknown) => {
    if (!closed) on.fail(e as Error);
  });
  dealer.connect(`tcp://127.0.0.1:${port}`);
  return {
    send: (frames) => queue.push(frames),
    listen: (reply, fail) => on.set(reply, fail),
    close: () => {
      closed = true;
      dealer.close();
    },
  };
}

/**
 * Batches in the request stream of a call to the receiver (a gRPC server), with grpc-js's
 * defaults: HTTP/2 windows of 64 KB (a receiver that raised its window to 16 MB, taking batches as
 * responses, measured slower on this machine: about 30 ms a batch round trip against 6-9 ms).
 */
function grpcSender(grpc: Grpc, port: number): Sender {
  const Client = grpc.makeGenericClientConstructor(STREAM_SERVICE, 'Stage');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), GRPC_OPTIONS);
  const call = client['stream']!() as import('@grpc/grpc-js').ClientDuplexStream<Buffer, Buffer>;
  const on = new Listeners();
  let closed = false;
  call.on('data', (reply: Buffer) => {
    decode(unpack(reply));
    on.reply();
  });
  call.on('error', (e: Error) => {
    if (!closed) on.fail(e);
  });
  return {
    send: (frames) => void call.write(pack(frames)),
    listen: (reply, fail) => on.set(reply, fail),
    close: () => {
      closed = true;
      call.cancel();
      client.close();
    },
  };
}

/** The sender's end of a connection to a new receiver process. */
async function connect(kind: TransportName, grpc: Grpc | null, peers: ChildProcess[]): Promise<Sender> {
  const port = await startPeer(kind, peers);
  return kind === 'zeromq' ? zmqSender(port) : grpcSender(grpc!, port);
}

/** Sends `count` messages keeping at most `window` unanswered; seconds from first send to last reply. */
function stream(sender: Sender, frames: Uint8Array[], count: number, window: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0, answered = 0;
    const start = performance.now();
    const top = (): void => {
      while (sent < count && sent - answered < window) {
        sent++;
        sender.send(frames);
      }
    };
    sender.listen(() => {
      if (++answered === count) resolve((performance.now() - start) / 1000);
      else top();
    }, reject);
    top();
  });
}

/** Round trips one at a time, ms: the median and the 90th percentile (stalls show there, not in the median). */
async function roundTrip(sender: Sender, frames: Uint8Array[], count: number): Promise<{ median: number; p90: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(1000 * (await stream(sender, frames, 1, 1)));
  times.sort((a, b) => a - b);
  return { median: median(times), p90: times[Math.min(times.length - 1, Math.floor(0.9 * times.length))]! };
}

export interface TransportFigures {
  transport: TransportName;
  /** batch stream, 2 in flight: MB/s of each repetition and their median */
  mbPerSecRuns: number[];
  mbPerSec: number;
  /** one batch and its credit, ms: median over repetitions of each repetition's median, and of its 90th percentile */
  batchRoundTripMs: number;
  batchRoundTripP90Ms: number;
  /** a credit each way, µs (median) */
  smallRoundTripUs: number;
}

/** ZeroMQ against another transport: medians of the ratios within each repetition (>1: ZeroMQ better). */
export interface ZeromqAgainst {
  transport: TransportName;
  throughput: number;
  batchRoundTrip: number;
  smallRoundTrip: number;
}

export interface TransportBenchResult {
  batch: number;
  width: number;
  /** bytes of one batch message (header and frames) */
  messageBytes: number;
  repetitions: number;
  transports: TransportFigures[];
  zeromqAgainst: ZeromqAgainst[];
  /** why gRPC was not measured */
  grpcUnavailable?: string;
}

/** A receiver process (transport_peer.ts) of `kind`; resolves with the port it listens on. */
async function startPeer(kind: TransportName, peers: ChildProcess[]): Promise<number> {
  const script = fileURLToPath(new URL('./transport_peer.js', import.meta.url));
  const child = spawn(process.execPath, [script, kind], { stdio: ['pipe', 'pipe', 'pipe'] });
  peers.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const started = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the ${kind} receiver process exited (code ${code}) before listening: ${err}`)));
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the ${kind} receiver process did not listen within 20 s: ${err}`)), 20_000)));
  return Promise.race([started, timeout]).finally(() => clearTimeout(timer));
}

/** Runs every pattern on each transport in turn (the order rotating), `repetitions` times. */
export async function transportBench(options: { batch: number; width: number; messages: number; roundTrips: number; repetitions: number }): Promise<TransportBenchResult> {
  const grpc = await loadGrpc();
  const kinds: TransportName[] = 'unavailable' in grpc ? ['zeromq'] : ['zeromq', 'grpc'];
  const frames = batchFrames(options.batch, options.width);
  const small = encode({ type: 'credit' });
  const peers: ChildProcess[] = [];
  const senders = new Map<TransportName, Sender>();
  const runs = new Map(kinds.map((k) => [k, { mbPerSec: [] as number[], batchMs: [] as number[], batchP90Ms: [] as number[], smallUs: [] as number[] }]));
  const bytes = frames.reduce((n, f) => n + f.byteLength, 0);
  try {
    for (const kind of kinds) senders.set(kind, await connect(kind, 'unavailable' in grpc ? null : grpc, peers));
    // warm-up: connections, buffers and JIT, untimed
    for (const kind of kinds) await stream(senders.get(kind)!, frames, 20, 2);
    for (let r = 0; r < options.repetitions; r++) {
      for (const kind of [...kinds.slice(r % kinds.length), ...kinds.slice(0, r % kinds.length)]) {
        const sender = senders.get(kind)!, figures = runs.get(kind)!;
        figures.mbPerSec.push((options.messages * bytes) / 1e6 / (await stream(sender, frames, options.messages, 2)));
        const batchTrip = await roundTrip(sender, frames, options.roundTrips);
        figures.batchMs.push(batchTrip.median);
        figures.batchP90Ms.push(batchTrip.p90);
        figures.smallUs.push(1000 * (await roundTrip(sender, small, 4 * options.roundTrips)).median);
      }
    }
  } finally {
    for (const sender of senders.values()) sender.close();
    await stopChildren(peers);
  }
  const z = runs.get('zeromq')!;
  const paired = (a: number[], b: number[]): number => median(a.map((x, r) => x / b[r]!));
  return {
    batch: options.batch, width: options.width, messageBytes: bytes, repetitions: options.repetitions,
    transports: kinds.map((k) => {
      const f = runs.get(k)!;
      return { transport: k, mbPerSecRuns: f.mbPerSec, mbPerSec: median(f.mbPerSec), batchRoundTripMs: median(f.batchMs), batchRoundTripP90Ms: median(f.batchP90Ms), smallRoundTripUs: median(f.smallUs) };
    }),
    zeromqAgainst: kinds.slice(1).map((k) => {
      const o = runs.get(k)!;
      return { transport: k, throughput: paired(z.mbPerSec, o.mbPerSec), batchRoundTrip: paired(o.batchMs, z.batchMs), smallRoundTrip: paired(o.smallUs, z.smallUs) };
    }),
    ...('unavailable' in grpc ? { grpcUnavailable: grpc.unavailable } : {}),
  };
}

const LABELS: Record<TransportName, string> = { zeromq: 'ZeroMQ', grpc: 'gRPC (grpc-js)' };

/** The lines `al bench` prints for a result. */
export function transportRows(r: TransportBenchResult): string[] {
  const lines = [
    `transport: batches of [${r.batch}, ${r.width}] s and t (${(r.messageBytes / 1e6).toFixed(2)} MB a message), 2 in flight, a credit back for each; 2 processes on 127.0.0.1, ${r.repetitions} repetitions, order rotating`,
    'transport          MB/s (median)   each run                    batch round trip ms (median, p90)   small round trip µs',
    ...r.transports.map((t) => `${LABELS[t.transport].padEnd(19)}${t.mbPerSec.toFixed(0).padStart(13)}   ${t.mbPerSecRuns.map((x) => x.toFixed(0)).join(' ').padEnd(28)}${`${t.batchRoundTripMs.toFixed(2)}, ${t.batchRoundTripP90Ms.toFixed(2)}`.padStart(32)}${t.smallRoundTripUs.toFixed(0).padStart(22)}`),
    ...r.zeromqAgainst.map((q) => `ZeroMQ against ${LABELS[q.transport]} (medians of each repetition's ratios): ${q.throughput.toFixed(2)}x the throughput, batch round trip ${q.batchRoundTrip.toFixed(2)}x and small round trip ${q.smallRoundTrip.toFixed(2)}x as fast`),
  ];
  if (r.grpcUnavailable) lines.push(`gRPC not measured: ${r.grpcUnavailable}`);
  return lines;
}
