// The receiving end of the transport bench (transport.ts), in its own process:
//   node transport_peer.js zeromq | grpc-push | grpc-pull PORT
// zeromq and grpc-push listen on a free port of 127.0.0.1 and print "listening PORT"; grpc-pull
// calls the bench's gRPC server on PORT and prints "calling". Every message it gets is decoded as
// a pipeline stage decodes one (frames.ts: s and t copied out) and answered with a credit. It
// ends when its stdin closes, so it never outlives the bench that started it.
import { Router } from 'zeromq';
import { decode, encode } from '../pipeline/frames.js';
import { SendQueue, socketOptions } from '../pipeline/zmq_transport.js';
import { GRPC_OPTIONS, GRPC_PULL_WINDOW, STREAM_SERVICE, loadGrpc, pack, unpack } from './transport.js';

type Duplex = import('@grpc/grpc-js').ServerDuplexStream<Buffer, Buffer> | import('@grpc/grpc-js').ClientDuplexStream<Buffer, Buffer>;

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

/** Answers every batch of a gRPC stream, whichever side called. */
function answer(call: Duplex): void {
  const reply = pack(credit);
  call.on('data', (message: Buffer) => {
    decode(unpack(message));
    call.write(reply);
  });
  call.on('error', () => {});
}

async function grpc(mode: 'grpc-push' | 'grpc-pull', port: number): Promise<() => void> {
  const grpc = await loadGrpc();
  if ('unavailable' in grpc) throw new Error(grpc.unavailable);
  if (mode === 'grpc-pull') {
    const Client = grpc.makeGenericClientConstructor(STREAM_SERVICE, 'Stage');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { ...GRPC_OPTIONS, 'grpc-node.flow_control_window': GRPC_PULL_WINDOW });
    const call = client['stream']!() as import('@grpc/grpc-js').ClientDuplexStream<Buffer, Buffer>;
    answer(call);
    process.stdout.write('calling\n');
    return () => {
      call.cancel();
      client.close();
    };
  }
  const server = new grpc.Server(GRPC_OPTIONS);
  server.addService(STREAM_SERVICE, {
    stream: (call: import('@grpc/grpc-js').ServerDuplexStream<Buffer, Buffer>) => {
      answer(call);
      call.on('end', () => call.end());
    },
  });
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  process.stdout.write(`listening ${bound}\n`);
  return () => server.forceShutdown();
}

const [kind, port] = [process.argv[2], Number(process.argv[3])];
if (kind !== 'zeromq' && kind !== 'grpc-push' && kind !== 'grpc-pull') {
  process.stderr.write(`transport peer: expected zeromq, grpc-push or grpc-pull, got '${String(kind)}'\n`);
  process.exit(2);
}
if (kind === 'grpc-pull' && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  process.stderr.write(`transport peer: grpc-pull needs the bench's port, got '${String(process.argv[3])}'\n`);
  process.exit(2);
}
const close = await (kind === 'zeromq' ? zeromq() : grpc(kind, port));
process.stdin.on('end', close);
process.stdin.resume();
