// A hand-driven peer of a stage process, for tests that speak the stage protocol message by
// message: a Dealer holding the keys of the local stages (or none, for --insecure ones), and
// messages framed as al frames them on a socket.
import { Dealer } from 'zeromq';
import { clientOptions } from '../../src/pipeline/runtime/curve.js';
import { RUN_LIMITS, decodeWire, encodeWire } from '../../src/pipeline/runtime/frames.js';
import type { LocalStages } from '../../src/pipeline/runtime/local_stages.js';

/** A Dealer connected to stage `k` of `stages`, with the run's keys. */
export function stageDealer(stages: LocalStages, k = 0, receiveTimeout = 5000): Dealer {
  const dealer = new Dealer({ linger: 0, receiveTimeout, ...(stages.keys ? clientOptions({ keys: stages.keys, serverKey: stages.keys.publicKey }) : {}) });
  dealer.connect(`tcp://${stages.addresses[k]}`);
  return dealer;
}

export function sendMessage(dealer: Dealer, m: { type: string } & Record<string, unknown>): Promise<void> {
  return dealer.send(encodeWire(m).map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength)));
}

export async function receiveMessage(dealer: Dealer): Promise<{ type: string } & Record<string, unknown>> {
  return decodeWire(await dealer.receive(), RUN_LIMITS) as { type: string } & Record<string, unknown>;
}
