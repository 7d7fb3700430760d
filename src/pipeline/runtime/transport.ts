// What a stage talks through, whatever carries it: three endpoints (its coordinator, its upstream
// and its downstream neighbour), each able to post a message, deliver messages and close. Worker
// threads implement them with MessagePorts (buffers move, nothing is copied); stage processes with
// ZeroMQ sockets (zmq_transport.ts). The stage code above them is the same.
import { EventEmitter } from 'node:events';
import type { MessagePort } from 'node:worker_threads';

export interface Endpoint {
  /** sends a message; `transfer` lists buffers the sender gives up (a port moves them, a socket copies) */
  post<M extends { type: string }>(message: M, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: { type: string }) => void): void;
  close(): void;
}

export interface StageLinks {
  coordinator: Endpoint;
  /** the previous stage (null on stage 0, whose upstream is the coordinator) */
  upstream: Endpoint | null;
  /** the next stage (null on the last stage) */
  downstream: Endpoint | null;
  /** batches a queue between two stages may hold */
  capacity: number;
}

/** A MessagePort (or a worker's parentPort) as an Endpoint. */
export function portEndpoint(port: Pick<MessagePort, 'postMessage' | 'on' | 'close'>): Endpoint {
  return {
    post: (message, transfer = []) => port.postMessage(message, transfer),
    on: (event, listener) => void port.on(event, listener),
    close: () => port.close(),
  };
}

/** An Endpoint whose incoming messages are pushed by its owner (a socket's receive loop). */
export class PushedEndpoint extends EventEmitter implements Endpoint {
  constructor(private readonly send: (message: { type: string }) => void, private readonly onClose: () => void = () => {}) {
    super();
  }

  post(message: { type: string }): void {
    this.send(message);
  }

  deliver(message: { type: string }): void {
    this.emit('message', message);
  }

  close(): void {
    this.onClose();
  }
}

/** The coordinator's handle on one stage, a worker thread or a process. */
export interface StageLink {
  /** the stage process's HOST:PORT, for error messages; null for a worker thread */
  readonly where: string | null;
  post<M extends { type: string }>(message: M, transfer?: ArrayBuffer[]): void;
  /** asks the stage to stop and waits, bounded, until it has */
  stop(): Promise<void>;
  /** after a failure: ends a worker thread at once; tells a stage process (which lives on) to end the run, bounded */
  terminate(): Promise<void>;
}

/** What a coordinator gives a link: where the stage's messages go, and where its failure goes. */
export interface LinkCallbacks {
  message(m: { type: string }): void;
  fail(message: string): void;
}
