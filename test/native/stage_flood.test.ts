// A stage process does not spend memory on peers it has not authenticated: a peer without an
// allowed key that sends one message of 1,000,000 one-byte frames, or raw bytes announcing
// 4 × 128 MB messages, is cut off, and the stage's resident memory (VmRSS) grows by less than
// 32 MB; a real run through the same stage afterwards trains.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { before, test } from 'node:test';
import { Dealer } from 'zeromq';
import { buildAssociatedNet, type ALNetSpec } from '../../src/al/decompositions.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import type { Dataset, Split } from '../../src/data/dataset.js';
import { ALPipeline } from '../../src/pipeline/al/al_pipeline.js';
import { clientOptions, generateKeys } from '../../src/pipeline/runtime/curve.js';
import { startLocalStages } from '../../src/pipeline/runtime/local_stages.js';
import type { ALNetBlueprint } from '../../src/pipeline/runtime/messages.js';
import { runPipelinedEpochs } from '../../src/pipeline/runtime/run_pipelined.js';
import { Rng } from '../../src/tensor/rng.js';

before(() => {
  setBackend(nativeBackend);
  nativeBackend.setNumThreads(1);
});

const MB = 1 << 20;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** A ZMTP 3.0 greeting (64 bytes) offering `mechanism`, as any peer may send before its handshake. */
function greeting(mechanism: string): Buffer {
  const g = Buffer.alloc(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g.write(mechanism, 12, 'ascii');
  return g;
}

/** Writes `total` bytes (the first `head`, then zeros) until done or the peer cuts us off; resolves with what was written and whether the peer closed. */
function push(address: string, head: Buffer, total: number): Promise<{ written: number; cut: boolean }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const zeros = Buffer.alloc(MB);
  return new Promise((resolve) => {
    const socket: Socket = connect(port, host);
    let written = 0, cut = false;
    const finish = (): void => resolve({ written, cut });
    socket.on('error', () => (cut = true));
    socket.on('close', finish);
    socket.on('end', () => (cut = true));
    socket.on('connect', () => {
      const more = (): void => {
        while (written < total && !socket.destroyed) {
          const chunk = written === 0 ? head : zeros.subarray(0, Math.min(MB, total - written));
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', more);
        }
        if (written >= total) socket.end();
      };
      more();
    });
    socket.resume();
  });
}

function syntheticSplit(n: number, seed: number): Split {
  const rng = new Rng(seed);
  return { images: Float32Array.from({ length: n * 64 }, () => rng.next()), labels: Int32Array.from({ length: n }, () => rng.int(10)), n, shape: [8, 8, 1], classes: 10 };
}

const mlp: ALNetBlueprint = { model: 'mlp', inputShape: [8, 8, 1], classes: 10, layers: 2, tWidth: 16, lr: 1e-3, milestones: [] };

test('peers without the key: 1,000,000 one-byte frames and 4 × 128 MB add < 32 MB to the stage and are cut off; a real run follows', { timeout: 120_000 }, async () => {
  const stages = await startLocalStages(1);
  const pid = stages.children[0]!.pid!;
  try {
    await new Promise((r) => setTimeout(r, 300));
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);

    // a ZeroMQ peer that knows the stage's public key but holds a key the stage does not allow
    const stranger = new Dealer({ linger: 0, ...clientOptions({ keys: generateKeys(), serverKey: stages.keys!.publicKey }) });
    const refused = new Promise<void>((resolve) => stranger.events.on('handshake:error:auth', () => resolve()));
    stranger.connect(`tcp://${stages.addresses[0]}`);
    const one = Buffer.from([7]);
    void stranger.send(Array.from({ length: 1_000_000 }, () => one)).catch(() => {});
    await refused;
    stranger.close();

    // raw peers: the same frames after a greeting without CURVE, and CURVE greetings followed by
    // a command frame announcing 128 MB (flags 0x06: a command with an 8-byte size), each sent
    const frames = Buffer.alloc(3 * 1_000_000);
    for (let i = 0; i < 1_000_000; i++) frames.set([i === 999_999 ? 0 : 1, 1, 7], 3 * i);
    const plain = await push(stages.addresses[0]!, Buffer.concat([greeting('NULL'), frames]), 64 + frames.length);
    assert.ok(plain.cut, 'the stage cut off a peer without CURVE');
    for (let i = 0; i < 4; i++) {
      const header = Buffer.alloc(9);
      header[0] = 0x06;
      header.writeBigUInt64BE(128n * BigInt(MB), 1);
      const big = await push(stages.addresses[0]!, Buffer.concat([greeting('CURVE'), header]), 128 * MB);
      assert.ok(big.cut && big.written < 128 * MB, `message ${i + 1}: the stage took ${big.written} bytes before cutting the peer off`);
    }
    await new Promise((r) => setTimeout(r, 200));
    clearInterval(sampler);
    peak = Math.max(peak, rssBytes(pid));
    assert.ok(peak - before < 32 * MB, `the stage's RSS grew by ${((peak - before) / MB).toFixed(1)} MB`);

    // the stage serves a real run afterwards
    const rng = new Rng(3);
    const net = buildAssociatedNet({ ...mlp, rng } as ALNetSpec);
    const pipeline = await ALPipeline.start({ blueprint: mlp, net, stages: [[0, 1]], threads: 1, processes: stages.processes });
    try {
      const data: Dataset = { train: syntheticSplit(64, 1), test: syntheticSplit(16, 2) };
      const epochs = await runPipelinedEpochs(pipeline, data, { epochs: 1, batchSize: 16, rng, testAccuracy: () => 0, lr: () => 1e-3 });
      assert.equal(pipeline.batchesDone, 4);
      assert.ok(Number.isFinite(epochs[0]!.trainLoss));
    } finally {
      await pipeline.close();
    }
  } finally {
    await stages.stop();
  }
  assert.match(stages.stderr[0]!, /refused a peer at 127\.0\.0\.1: its public key \S+ is not among the keys this stage allows/);
  assert.equal((stages.stderr[0]!.match(/refused a peer/g) ?? []).length, 1, 'logged once, however often it knocked');
});
