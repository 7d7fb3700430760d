// A pipeline stage in its own process: `al stage --listen HOST:PORT`. It binds a ZeroMQ Router and
// waits for a coordinator. With keys (the rule; curve.ts), the Router is a CURVE server: a peer
// whose public key the stage does not allow is refused in the handshake, before it can send a
// message, and everything else is encrypted; a token, if the stage has one, must match as well.
// Without keys (--insecure, loopback only) the token is all that tells a coordinator apart.
// The coordinator's init names the stage program to run (AL or BP, from the programs the server
// was given) and the stage's downstream neighbour with its public key; the stage connects to it
// (with its own keys, and the same token), then runs the same stage loop as a worker thread.
// After a run's stop it waits for the next coordinator.
//
// Nothing a peer sends can crash it: a message that does not decode, a wrong token, a second
// coordinator or a message from a peer that never said hello is logged and dropped (and a malformed
// message from the run's own coordinator or neighbour fails the run with a clean error report).
// A peer that has not said hello gets no more than a hello's size decoded (HELLO_LIMITS), and
// what it sent reaches the log escaped, once per peer and reason (peer_log.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'zeromq';
import { DownstreamLostError } from './errors.js';
import { checkPlaintext, registerZap, serverOptions, z85Encode, type ServerCurve } from './curve.js';
import { HELLO_LIMITS, RUN_LIMITS, WIRE_VERSION, WireVersionError, decodeWire, encodeWire } from './frames.js';
import { parseHello, parseStageInit, type Hello, type InitMessage } from './messages.js';
import { MessageError } from './parse.js';
import { RefusalLog, printable } from './peer_log.js';
import { StageRuntime } from './stage_runtime.js';
import { PushedEndpoint, type Endpoint } from './transport.js';
import { CONNECT_TIMEOUT_MS, HEARTBEAT_TIMEOUT_MS, SendQueue, WireClock, openPeer, socketOptions } from './zmq_transport.js';

/** A stage loop: wires a stage's handlers to a runtime, which delivers its init and messages. */
export type StageProgram = (runtime: StageRuntime) => void;

export interface StageServerOptions {
  /** HOST:PORT to bind; port 0 picks a free one */
  listen: string;
  /** the run's secret a coordinator's hello must hold; optional with `curve`, whose keys decide */
  token?: string | undefined;
  /** the stage's keys and the peers it accepts; without it, plaintext, on loopback only */
  curve?: ServerCurve | undefined;
  log: (line: string) => void;
  /** the stage programs a coordinator may ask for, by the name its init gives */
  programs: Readonly<Record<string, StageProgram>>;
  /** serve one run, then resolve `finished` (stage processes a coordinator starts itself) */
  once?: boolean;
}

interface ActiveRun {
  coordinator: string;
  upstream: string | null;
  coordinatorEndpoint: PushedEndpoint;
  upstreamEndpoint: PushedEndpoint;
  runtime: StageRuntime | null;
  closeDownstream: () => void;
}

function sameToken(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** how often a disconnect's probe of the coordinator repeats */
const PROBE_INTERVAL_MS = 200;

export class StageServer {
  /** resolves when the server closed (with `once`: after its run) */
  readonly finished: Promise<void>;
  private finish: () => void = () => {};
  private closed = false;
  private run: ActiveRun | null = null;
  private readonly clock = new WireClock();
  private readonly queue: SendQueue;
  private readonly refusals: RefusalLog;
  /** gives the server's ZAP domain back when it closes */
  private releaseZap: () => void = () => {};

  /** `address`: the bound HOST:PORT */
  private constructor(private readonly router: Router, readonly address: string, private readonly options: StageServerOptions) {
    this.finished = new Promise<void>((resolve) => (this.finish = resolve));
    this.refusals = new RefusalLog((line) => this.log(line));
    this.queue = new SendQueue((frames) => this.clock.time(() => router.send(frames)), (e) => options.log(`al stage: a send failed: ${e.message}`));
  }

  /** Binds the server's Router and starts serving. */
  static async start(options: StageServerOptions): Promise<StageServer> {
    // mandatory: a send to a peer whose connection is gone fails (EHOSTUNREACH) instead of vanishing,
    // which is how a closed connection is matched to the run's coordinator (see onDisconnect).
    // A send to a connection that is closing but not yet gone waits instead, and nothing wakes it
    // until another peer connects; the timeout fails it, so the queue moves on (a live peer reads
    // continuously and never keeps a send waiting that long).
    const { curve } = options;
    if (!curve) checkPlaintext(options.listen);
    let server: StageServer | null = null;
    // the peer check runs in the handshake, before the peer can send a message
    const zap = curve ? await registerZap((key, address) => server?.allows(curve, key, address) ?? false) : null;
    const router = new Router({ ...socketOptions, mandatory: true, sendTimeout: HEARTBEAT_TIMEOUT_MS, ...(curve && zap ? serverOptions(curve, zap.domain) : {}) });
    const at = options.listen.lastIndexOf(':');
    const [host, port] = [options.listen.slice(0, at), options.listen.slice(at + 1)];
    try {
      await router.bind(`tcp://${host}:${port === '0' ? '*' : port}`);
    } catch (error) {
      zap?.release();
      router.close();
      throw error;
    }
    const started = new StageServer(router, router.lastEndpoint!.replace(/^tcp:\/\//, ''), options);
    server = started;
    if (zap) started.releaseZap = zap.release;
    router.events.on('disconnect', () => started.onDisconnect());
    void started.receive();
    return started;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.run?.closeDownstream();
    this.router.close();
    this.releaseZap();
    this.finish();
  }

  private sendTo<M extends { type: string }>(peer: string, m: M): void {
    this.clock.time(() => this.queue.push([Buffer.from(peer, 'hex'), ...encodeWire(m)]));
  }

  /** Every line escaped: parts of it may come from a peer. */
  private log(line: string): void {
    this.options.log(`al stage: ${printable(line, 1000)}`);
  }

  /** The ZAP decision on a peer in its CURVE handshake; a refusal is logged once per address and key. */
  private allows(curve: ServerCurve, key: Buffer, address: string): boolean {
    const text = z85Encode(key);
    if (curve.allow.includes(text)) return true;
    this.refusals.refuse(`${address} ${text}`, 'key', `refused a peer at ${address}: its public key ${text} is not among the keys this stage allows`);
    return false;
  }

  /** The run's over: the next coordinator may come (or, with `once`, the server closes). */
  private endRun(why: string): void {
    if (!this.run) return;
    this.run.closeDownstream();
    this.run = null;
    this.log(`${why}${this.options.once ? 'exiting' : 'waiting for the next one'}`);
  }

  private stopRun(): void {
    if (!this.run) return;
    this.sendTo(this.run.coordinator, { type: 'stopped' });
    this.endRun('run over: the coordinator stopped it; ');
    if (this.options.once) setTimeout(() => this.close(), 100);
  }

  private reject(peer: string, why: string, reason: string): void {
    this.refusals.refuse(peer, reason, `rejected ${why}`);
    this.sendTo(peer, { type: 'rejected', reason });
  }

  private hello(peer: string, m: Hello): void {
    const who = m.role === 'upstream' ? 'an upstream stage' : 'a coordinator';
    if (this.options.token !== undefined && !sameToken(m.token, this.options.token)) return this.reject(peer, `${who}: wrong token`, 'wrong token');
    if (m.version !== WIRE_VERSION) {
      return this.reject(peer, `${who}: wire version ${m.version}, this stage speaks version ${WIRE_VERSION}`, `wire version ${m.version}, the stage speaks ${WIRE_VERSION}`);
    }
    if (m.role === 'coordinator') {
      if (this.run) return this.reject(peer, 'a second coordinator: a run is in progress', 'busy with another run');
      this.run = this.newRun(peer);
    } else if (this.run) {
      this.run.upstream = peer;
    } else {
      return this.reject(peer, `${who}: no run in progress`, 'no run in progress');
    }
    this.sendTo(peer, { type: 'welcome' });
  }

  private newRun(coordinator: string): ActiveRun {
    // each 'done' report carries the transport time since the previous one (see WireClock)
    const coordinatorEndpoint = new PushedEndpoint(
      (out) => this.sendTo(coordinator, out.type === 'done' ? { ...out, wireMs: this.clock.take() } : out),
      () => this.stopRun(),
    );
    const upstreamEndpoint = new PushedEndpoint((out) => {
      if (this.run?.upstream) this.sendTo(this.run.upstream, out);
    });
    return { coordinator, upstream: null, coordinatorEndpoint, upstreamEndpoint, runtime: null, closeDownstream: () => {} };
  }

  /** An error of the run's own peers: through the stage's runtime once it runs, else reported directly. */
  private failRun(error: Error): void {
    if (!this.run) return;
    if (this.run.runtime) this.run.runtime.fail(error);
    else this.sendTo(this.run.coordinator, { type: 'error', stage: -1, name: error.name, message: error.message });
  }

  /** Connects to the downstream neighbour the init names, if any. */
  private async connectDownstream(current: ActiveRun, m: InitMessage): Promise<Endpoint | null> {
    if (typeof m.downstream !== 'string') return null;
    const endpoint = new PushedEndpoint((out) => peer.send(out), () => peer.close());
    const hello: Hello = { type: 'hello', role: 'upstream', token: this.options.token ?? '', version: WIRE_VERSION };
    const { curve } = this.options;
    if (curve && typeof m.downstreamKey !== 'string') throw new Error(`the coordinator names the downstream stage ${m.downstream} without its public key (downstreamKey)`);
    const peer = await openPeer(m.downstream!, hello, m.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, {
      message: (out) => endpoint.deliver(out),
      fail: (what) => current.runtime?.fail(new DownstreamLostError(what)),
    }, this.clock, curve ? { keys: curve.keys, serverKey: m.downstreamKey! } : undefined);
    current.closeDownstream = () => peer.close();
    return endpoint;
  }

  /** A run's init: the stage program it names, on a runtime over this run's endpoints. */
  private async init(current: ActiveRun, m: InitMessage): Promise<void> {
    const program = this.options.programs[m.program];
    if (!program) throw new Error(`the coordinator asks for stage program '${m.program}'; this stage runs ${Object.keys(this.options.programs).join(', ')}`);
    const downstream = await this.connectDownstream(current, m);
    current.runtime = new StageRuntime({
      coordinator: current.coordinatorEndpoint,
      upstream: m.init.stage > 0 ? current.upstreamEndpoint : null,
      downstream,
      capacity: m.capacity ?? 2,
    });
    program(current.runtime);
    current.coordinatorEndpoint.deliver(m);
  }

  // A connection closed (or silent past the heartbeat timeout): if it was the run's coordinator, a
  // ping to it fails, and the run ends, so the stage is free for the next coordinator. The monitor
  // can report the close before the socket has dropped the peer's pipe, and a ping into that pipe
  // goes through: so the ping is repeated a few times over the heartbeat timeout.
  private onDisconnect(): void {
    const current = this.run;
    if (!current) return;
    const probe = (left: number): void => {
      if (this.run !== current || this.closed) return;
      this.queue.push([Buffer.from(current.coordinator, 'hex'), ...encodeWire({ type: 'ping' })], () => {
        if (this.run !== current) return;
        this.endRun('lost the coordinator; the run is over, ');
        if (this.options.once) this.close();
      });
      if (left > 0) setTimeout(() => probe(left - 1), PROBE_INTERVAL_MS).unref();
    };
    probe(Math.ceil(HEARTBEAT_TIMEOUT_MS / PROBE_INTERVAL_MS));
  }

  private async receive(): Promise<void> {
    try {
      for await (const [id, ...frames] of this.router) this.onFrames(id!.toString('hex'), frames);
    } catch (error) {
      if (!this.closed) this.log(`receive failed: ${(error as Error).message}`);
    }
    this.close();
  }

  /** Which of the run's peers `peer` is, if any. */
  private roleOf(peer: string): 'coordinator' | 'upstream' | null {
    return this.run?.coordinator === peer ? 'coordinator' : this.run?.upstream === peer ? 'upstream' : null;
  }

  private onFrames(peer: string, frames: Buffer[]): void {
    const role = this.roleOf(peer);
    let m: { type: string };
    try {
      // nothing of a peer outside the run is decoded beyond a hello's size
      m = this.clock.time(() => decodeWire(frames, role === null ? HELLO_LIMITS : RUN_LIMITS));
      if (m.type === 'hello') return this.hello(peer, parseHello(m));
    } catch (error) {
      if (error instanceof MessageError) return this.reject(peer, `a peer: ${error.message}`, error.message);
      if (role === null && error instanceof WireVersionError) {
        // most likely the hello of an al of another version: tell it so, in our version's
        // words (it reads the version byte of the answer and names it)
        return this.reject(peer, `a peer speaking wire version ${error.version}; this stage speaks version ${WIRE_VERSION} (run the same version of al on every host)`,
          `wire version ${error.version}, the stage speaks ${WIRE_VERSION}`);
      }
      const line = `malformed message from ${role ?? 'an unknown peer'}: ${(error as Error).message}`;
      if (role === null) return this.refusals.refuse(peer, 'malformed', line);
      this.log(line);
      if (role !== null) this.failRun(error as Error);
      return;
    }
    if (role === null) this.refusals.refuse(peer, 'ignored', `ignored a '${m.type.slice(0, 40)}' message from a peer that has not presented the run's token`);
    else if (role === 'upstream') this.run!.upstreamEndpoint.deliver(m);
    else if (this.run!.runtime !== null) this.run!.coordinatorEndpoint.deliver(m);
    else if (m.type === 'stop') this.stopRun();
    else if (m.type === 'init') this.startRun(m);
    else this.run!.coordinatorEndpoint.deliver(m);
  }

  private startRun(m: { type: string }): void {
    const current = this.run!;
    Promise.resolve().then(() => this.init(current, parseStageInit(m))).catch((error: unknown) => {
      this.log(`init failed: ${(error as Error).message}`);
      if (this.run === current) this.failRun(error as Error);
    });
  }
}
