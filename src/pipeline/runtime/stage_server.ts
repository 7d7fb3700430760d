// A pipeline stage in its own process: `al stage --listen HOST:PORT`. It binds a ZeroMQ Router and
// waits for a coordinator holding the run's token. The coordinator's init names the stage's
// downstream neighbour; the stage connects to it (presenting the same token), then runs the same
// AL stage loop as a worker thread. After a run's stop it waits for the next coordinator.
//
// Nothing a peer sends can crash it: a message that does not decode, a wrong token, a second
// coordinator or a message from a peer that never said hello is logged and dropped (and a malformed
// message from the run's own coordinator or neighbour fails the run with a clean error report).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'zeromq';
import { runALStage } from '../al/al_stage_loop.js';
import { DownstreamLostError } from './errors.js';
import { WIRE_VERSION, WireVersionError, decode, encode } from './frames.js';
import { StageRuntime } from './stage_runtime.js';
import { PushedEndpoint, type Endpoint } from './transport.js';
import { CONNECT_TIMEOUT_MS, HEARTBEAT_TIMEOUT_MS, SendQueue, WireClock, openPeer, socketOptions, type Hello } from './zmq_transport.js';

export interface StageServerOptions {
  /** HOST:PORT to bind; port 0 picks a free one */
  listen: string;
  token: string;
  log: (line: string) => void;
  /** serve one run, then resolve `finished` (stage processes a coordinator starts itself) */
  once?: boolean;
}

export interface StageServer {
  /** the bound HOST:PORT */
  address: string;
  /** resolves when the server closed (with `once`: after its run) */
  finished: Promise<void>;
  close(): void;
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

export async function startStageServer(options: StageServerOptions): Promise<StageServer> {
  const { log } = options;
  // mandatory: a send to a peer whose connection is gone fails (EHOSTUNREACH) instead of vanishing,
  // which is how a closed connection is matched to the run's coordinator (see 'disconnect' below).
  // A send to a connection that is closing but not yet gone waits instead, and nothing wakes it
  // until another peer connects; the timeout fails it, so the queue moves on (a live peer reads
  // continuously and never keeps a send waiting that long).
  const router = new Router({ ...socketOptions, mandatory: true, sendTimeout: HEARTBEAT_TIMEOUT_MS });
  const [host, port] = [options.listen.slice(0, options.listen.lastIndexOf(':')), options.listen.slice(options.listen.lastIndexOf(':') + 1)];
  await router.bind(`tcp://${host}:${port === '0' ? '*' : port}`);
  const address = router.lastEndpoint!.replace(/^tcp:\/\//, '');
  let closed = false;
  // widened: TypeScript does not see the assignments in callbacks
  let run = null as ActiveRun | null;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const close = (): void => {
    if (closed) return;
    closed = true;
    run?.closeDownstream();
    router.close();
    finish();
  };
  const clock = new WireClock();
  const queue = new SendQueue((frames) => clock.time(() => router.send(frames)), (e) => log(`al stage: a send failed: ${e.message}`));
  const sendTo = (peer: string, m: { type: string } & Record<string, unknown>): void => clock.time(() => queue.push([Buffer.from(peer, 'hex'), ...encode(m)]));

  function endRun(): void {
    if (!run) return;
    sendTo(run.coordinator, { type: 'stopped' });
    run.closeDownstream();
    run = null;
    log(`al stage: run over: the coordinator stopped it; ${options.once ? 'exiting' : 'waiting for the next one'}`);
    if (options.once) setTimeout(close, 100);
  }

  function hello(peer: string, m: Hello): void {
    const who = m.role === 'upstream' ? 'an upstream stage' : 'a coordinator';
    if (typeof m.token !== 'string' || !sameToken(m.token, options.token)) {
      log(`al stage: rejected ${who}: wrong token`);
      sendTo(peer, { type: 'rejected', reason: 'wrong token' });
    } else if (m.version !== WIRE_VERSION) {
      log(`al stage: rejected ${who}: wire version ${String(m.version)}, this stage speaks version ${WIRE_VERSION}`);
      sendTo(peer, { type: 'rejected', reason: `wire version ${String(m.version)}, the stage speaks ${WIRE_VERSION}` });
    } else if (m.role === 'coordinator') {
      if (run) {
        log('al stage: rejected a second coordinator: a run is in progress');
        sendTo(peer, { type: 'rejected', reason: 'busy with another run' });
        return;
      }
      // each 'done' report carries the transport time since the previous one (see WireClock)
      const coordinatorEndpoint = new PushedEndpoint((out) => sendTo(peer, out.type === 'done' ? { ...out, wireMs: clock.take() } : out), endRun);
      const upstreamEndpoint = new PushedEndpoint((out) => run?.upstream && sendTo(run.upstream, out));
      run = { coordinator: peer, upstream: null, coordinatorEndpoint, upstreamEndpoint, runtime: null, closeDownstream: () => {} };
      sendTo(peer, { type: 'welcome' });
    } else if (m.role === 'upstream' && run) {
      run.upstream = peer;
      sendTo(peer, { type: 'welcome' });
    } else {
      log(`al stage: rejected ${who}: ${m.role === 'upstream' ? 'no run in progress' : `unknown role '${String(m.role)}'`}`);
      sendTo(peer, { type: 'rejected', reason: 'no run in progress' });
    }
  }

  /** An error of the run's own peers: through the stage's runtime once it runs, else reported directly. */
  function failRun(error: Error): void {
    if (!run) return;
    if (run.runtime) run.runtime.fail(error);
    else sendTo(run.coordinator, { type: 'error', stage: -1, name: error.name, message: error.message });
  }

  async function init(current: ActiveRun, m: { type: string; init?: { stage?: unknown }; downstream?: unknown; capacity?: unknown; connectTimeoutMs?: unknown }): Promise<void> {
    let downstream: Endpoint | null = null;
    if (typeof m.downstream === 'string') {
      const endpoint = new PushedEndpoint((out) => peer.send(out), () => peer.close());
      const timeoutMs = typeof m.connectTimeoutMs === 'number' && m.connectTimeoutMs > 0 ? m.connectTimeoutMs : CONNECT_TIMEOUT_MS;
      const peer = await openPeer(m.downstream, { type: 'hello', role: 'upstream', token: options.token, version: WIRE_VERSION }, timeoutMs, {
        message: (out) => endpoint.deliver(out),
        fail: (what) => current.runtime?.fail(new DownstreamLostError(what)),
      }, clock);
      current.closeDownstream = () => peer.close();
      downstream = endpoint;
    }
    const stage = typeof m.init?.stage === 'number' ? m.init.stage : 0;
    current.runtime = new StageRuntime({
      coordinator: current.coordinatorEndpoint,
      upstream: stage > 0 ? current.upstreamEndpoint : null,
      downstream,
      capacity: typeof m.capacity === 'number' ? m.capacity : 2,
    });
    runALStage(current.runtime);
    current.coordinatorEndpoint.deliver(m);
  }

  // A connection closed (or silent past the heartbeat timeout): if it was the run's coordinator, a
  // ping to it fails, and the run ends, so the stage is free for the next coordinator.
  router.events.on('disconnect', () => {
    const current = run;
    if (!current) return;
    queue.push([Buffer.from(current.coordinator, 'hex'), ...encode({ type: 'ping' })], () => {
      if (run !== current) return;
      log('al stage: lost the coordinator; the run is over, waiting for the next one');
      current.closeDownstream();
      run = null;
      if (options.once) close();
    });
  });

  void (async () => {
    try {
      for await (const [id, ...frames] of router) {
        const peer = id!.toString('hex');
        const role = run?.coordinator === peer ? 'coordinator' : run?.upstream === peer ? 'upstream' : null;
        let m: { type: string };
        try {
          m = clock.time(() => decode(frames));
        } catch (error) {
          if (role === null && error instanceof WireVersionError) {
            // most likely the hello of an al of another version: tell it so, in our version's
            // words (it reads the version byte of the answer and names it)
            log(`al stage: rejected a peer speaking wire version ${error.version}; this stage speaks version ${WIRE_VERSION} (run the same version of al on every host)`);
            sendTo(peer, { type: 'rejected', reason: `wire version ${error.version}, the stage speaks ${WIRE_VERSION}` });
            continue;
          }
          log(`al stage: malformed message from ${role ?? 'an unknown peer'}: ${(error as Error).message}`);
          if (role !== null) failRun(error as Error);
          continue;
        }
        if (m.type === 'hello') {
          hello(peer, m as Hello);
        } else if (role === null) {
          log(`al stage: ignored a '${m.type.slice(0, 40)}' message from a peer that has not presented the run's token`);
        } else if (role === 'upstream') {
          run!.upstreamEndpoint.deliver(m);
        } else if (m.type === 'stop' && run!.runtime === null) {
          endRun();
        } else if (m.type === 'init' && run!.runtime === null) {
          const current = run!;
          init(current, m).catch((error: unknown) => {
            log(`al stage: init failed: ${(error as Error).message}`);
            if (run === current) failRun(error as Error);
          });
        } else {
          run!.coordinatorEndpoint.deliver(m);
        }
      }
    } catch (error) {
      if (!closed) log(`al stage: receive failed: ${(error as Error).message}`);
    }
    close();
  })();
  return { address, finished, close };
}
