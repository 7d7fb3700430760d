// The receiving end of the transport bench (transport.ts), in its own process:
//   node transport_peer.js zeromq|grpc
// listens on a free port of 127.0.0.1, prints "listening PORT", decodes every message it gets as a
// pipeline stage does (frames.ts: s and t copied out) and answers each with a credit. It ends when
// its stdin closes, so it never outlives the bench that started it.
import { Router } from 'zeromq';
import { decode, encode } from '../pipeline/runtime/frames.js';
import { SendQueue, socketOptions } from '../pipeline/runtime/zmq_transport.js';
import { GRPC_OPTIONS, STREAM_SERVICE, loadGrpc, pack, unpack } from './transport.js';

const credit = encode({ type: 'credit' });

async function zeromq(): Promise<() => void> {
  const router = new Router(socketOptions);
  await router.bind('tcp://127.0.0.1:*');
  const queue = new SendQueue((frames) => router.send(frames), (e) => process.stderr.write(`transport peer: send failed: ${e.message}\n`));
  void (async () => {
    for await (const [id, ...frames] of router) {
      decode(frames);
      queue.push([id!, ...credit]);
    }
  })().catch(() => {});
  process.stdout.write(`listening ${router.lastEndpoint!.split(':').pop()}\n`);
  return () => router.close();
}

async function grpc(): Promise<() => void> {
  const grpc = await loadGrpc();
  if ('unavailable' in grpc) throw new Error(grpc.unavailable);
  const server = new grpc.Server(GRPC_OPTIONS);
  const reply = pack(credit);
  server.addService(STREAM_SERVICE, {
    stream: (call: import('@grpc/grpc-js').ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (message: Buffer) => {
        decode(unpack(message));
        call.write(reply);
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  process.stdout.write(`listening ${port}\n`);
  return () => server.forceShutdown();
}

const kind = process.argv[2];
if (kind !== 'zeromq' && kind !== 'grpc') {
  process.stderr.write(`transport peer: expected zeromq or grpc, got '${String(kind)}'\n`);
  process.exit(2);
}
const close = await (kind === 'zeromq' ? zeromq() : grpc());
process.stdin.on('end', close);
process.stdin.resume();
