// A pipeline stage in its own process: `al stage --listen HOST:PORT`. It binds a ZeroMQ Router and
// waits for a coordinator holding the run's token. The coordinator's init names the stage program
// to run (AL or BP, from the programs the server was given) and the stage's downstream neighbour;
// the stage connects to it (presenting the same token), then runs the same stage loop as a worker
// thread. After a run's stop it waits for the next coordinator.
//
// Nothing a peer sends can crash it: a message that does not decode, a wrong token, a second
// coordinator or a message from a peer that never said hello is logged and dropped (and a malformed
// message from the run's own coordinator or neighbour fails the run with a clean error report).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'zeromq';
import { DownstreamLostError } from './errors.js';
import { WIRE_VERSION, WireVersionError, decode, encode } from './frames.js';
import { parseHello, parseStageInit, type Hello, type InitMessage } from './messages.js';
import { MessageError } from './parse.js';
import { StageRuntime } from './stage_runtime.js';
import { PushedEndpoint, type Endpoint } from './transport.js';
import { CONNECT_TIMEOUT_MS, HEARTBEAT_TIMEOUT_MS, SendQueue, WireClock, openPeer, socketOptions } from './zmq_transport.js';

/** A stage loop: wires a stage's handlers to a runtime, which delivers its init and messages. */
export type StageProgram = (runtime: StageRuntime) => void;

export interface StageServerOptions {
  /** HOST:PORT to bind; port 0 picks a free one */
  listen: string;
  token: string;
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

export class StageServer {
  /** resolves when the server closed (with `once`: after its run) */
  readonly finished: Promise<void>;
  private finish: () => void = () => {};
  private closed = false;
  private run: ActiveRun | null = null;
  private readonly clock = new WireClock();
  private readonly queue: SendQueue;

  /** `address`: the bound HOST:PORT */
  private constructor(private readonly router: Router, readonly address: string, private readonly options: StageServerOptions) {
    this.finished = new Promise<void>((resolve) => (this.finish = resolve));
    this.queue = new SendQueue((frames) => this.clock.time(() => router.send(frames)), (e) => options.log(`al stage: a send failed: ${e.message}`));
  }

  /** Binds the server's Router and starts serving. */
  static async start(options: StageServerOptions): Promise<StageServer> {
    // mandatory: a send to a peer whose connection is gone fails (EHOSTUNREACH) instead of vanishing,
    // which is how a closed connection is matched to the run's coordinator (see onDisconnect).
    // A send to a connection that is closing but not yet gone waits instead, and nothing wakes it
    // until another peer connects; the timeout fails it, so the queue moves on (a live peer reads
    // continuously and never keeps a send waiting that long).
    const router = new Router({ ...socketOptions, mandatory: true, sendTimeout: HEARTBEAT_TIMEOUT_MS });
    const at = options.listen.lastIndexOf(':');
    const [host, port] = [options.listen.slice(0, at), options.listen.slice(at + 1)];
    await router.bind(`tcp://${host}:${port === '0' ? '*' : port}`);
    const server = new StageServer(router, router.lastEndpoint!.replace(/^tcp:\/\//, ''), options);
    router.events.on('disconnect', () => server.onDisconnect());
    void server.receive();
    return server;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.run?.closeDownstream();
    this.router.close();
    this.finish();
  }

  private sendTo<M extends { type: string }>(peer: string, m: M): void {
    this.clock.time(() => this.queue.push([Buffer.from(peer, 'hex'), ...encode(m)]));
  }

  private log(line: string): void {
    this.options.log(`al stage: ${line}`);
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
    this.log(`rejected ${why}`);
    this.sendTo(peer, { type: 'rejected', reason });
  }

  private hello(peer: string, m: Hello): void {
    const who = m.role === 'upstream' ? 'an upstream stage' : 'a coordinator';
    if (!sameToken(m.token, this.options.token)) return this.reject(peer, `${who}: wrong token`, 'wrong token');
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
    const hello: Hello = { type: 'hello', role: 'upstream', token: this.options.token, version: WIRE_VERSION };
    const peer = await openPeer(m.downstream!, hello, m.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, {
      message: (out) => endpoint.deliver(out),
      fail: (what) => current.runtime?.fail(new DownstreamLostError(what)),
    }, this.clock);
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
  // ping to it fails, and the run ends, so the stage is free for the next coordinator.
  private onDisconnect(): void {
    const current = this.run;
    if (!current) return;
    this.queue.push([Buffer.from(current.coordinator, 'hex'), ...encode({ type: 'ping' })], () => {
      if (this.run !== current) return;
      this.endRun('lost the coordinator; the run is over, ');
      if (this.options.once) this.close();
    });
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
      m = this.clock.time(() => decode(frames));
      if (m.type === 'hello') return this.hello(peer, parseHello(m));
    } catch (error) {
      if (error instanceof MessageError) return this.reject(peer, `a peer: ${error.message}`, error.message);
      if (role === null && error instanceof WireVersionError) {
        // most likely the hello of an al of another version: tell it so, in our version's
        // words (it reads the version byte of the answer and names it)
        return this.reject(peer, `a peer speaking wire version ${error.version}; this stage speaks version ${WIRE_VERSION} (run the same version of al on every host)`,
          `wire version ${error.version}, the stage speaks ${WIRE_VERSION}`);
      }
      this.log(`malformed message from ${role ?? 'an unknown peer'}: ${(error as Error).message}`);
      if (role !== null) this.failRun(error as Error);
      return;
    }
    if (role === null) this.log(`ignored a '${m.type.slice(0, 40)}' message from a peer that has not presented the run's token`);
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
