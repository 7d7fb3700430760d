// Stage traffic is encrypted: a TCP relay between the coordinator and each stage (and between the
// stages) records every byte of a small run, and no 16-byte window of the trained weights, which
// the stages ship to the coordinator, appears in it; with --insecure the same windows do appear,
// so the check can fail. Also: al keygen's files and errors, a coordinator whose key the stage does
// not allow is refused by name on both sides, and --insecure beyond loopback exits 2.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeSafetensors } from '../../src/train/checkpoint.js';
import { alBin as al, makeKeyPair, runAl } from '../util/al_cli.js';
import { until } from '../util/poll.js';
import { tempDir } from '../util/temp_dir.js';

const work = tempDir('al-stage-curve-');
const children: ChildProcess[] = [];
const servers: Server[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const server of servers) server.close();
});

const train = ['train', '--model', 'mlp', '--method', 'al', '--pipeline', '--al-layers', '2', '--t-width', '32', '--limit', '256', '--epochs', '1', '--batch', '64'];

interface Stage {
  address: string;
  log: () => string;
}

async function startStage(args: string[]): Promise<Stage> {
  const child = spawn(process.execPath, [al, 'stage', '--listen', '127.0.0.1:0', ...args], { env: { ...process.env, AL_KEY: '', AL_TOKEN: '' } });
  children.push(child);
  let out = '', err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /listening on \S+/.test(out) || child.exitCode !== null, 20_000, () => err);
  const address = /listening on (\S+)/.exec(out)?.[1];
  assert.ok(address, `al stage exited (${child.exitCode}): ${err}`);
  return { address, log: () => err };
}

/** A TCP forwarder to `target` that keeps every byte in either direction; resolves with its address. */
async function relay(target: string, captured: Buffer[]): Promise<string> {
  const at = target.lastIndexOf(':');
  const server = createServer((inbound) => {
    const outbound = connect(Number(target.slice(at + 1)), target.slice(0, at));
    inbound.on('data', (d: Buffer) => (captured.push(d), outbound.write(d)));
    outbound.on('data', (d: Buffer) => (captured.push(d), inbound.write(d)));
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** `al ARGS` to its end without blocking this process's event loop (the relays live in it). */
function alAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [al, ...args], { env: { ...process.env, AL_KEY: '', AL_TOKEN: '', ...env } });
  children.push(child);
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.once('exit', (code) => done({ code, stdout, stderr })));
}

/** 16-byte windows of the trained weights, each of four distinct non-zero floats. */
function weightWindows(runDir: string, count: number): Buffer[] {
  const tensors = [...decodeSafetensors(readFileSync(join(runDir, 'checkpoint.safetensors')), 'checkpoint').values()];
  const windows: Buffer[] = [];
  for (const t of tensors) {
    const data = t.data as Float32Array;
    for (let i = 0; i + 4 <= data.length && windows.length < count; i += 97) {
      const w = data.subarray(i, i + 4);
      if (new Set(w).size === 4 && !w.includes(0)) windows.push(Buffer.from(w.buffer, w.byteOffset, 16));
    }
  }
  assert.ok(windows.length >= 20, `only ${windows.length} windows`);
  return windows;
}

/** A two-stage run with every connection through a relay; the captured bytes and the run directory. */
async function capturedRun(stageArgs: string[], coordinatorArgs: string[], name: string): Promise<{ stream: Buffer; runDir: string }> {
  const captured: Buffer[] = [];
  const stages = [await startStage(stageArgs), await startStage(stageArgs)];
  const relays = [await relay(stages[0]!.address, captured), await relay(stages[1]!.address, captured)];
  const runDir = join(work, name);
  const r = await alAsync([...train, '--stages', relays.join(','), ...coordinatorArgs, '--out', runDir]);
  assert.equal(r.code, 0, r.stderr);
  return { stream: Buffer.concat(captured), runDir };
}

const found = (stream: Buffer, windows: Buffer[]): number => windows.filter((w) => stream.includes(w)).length;

test('no float data of a run crosses the loopback in the clear; with --insecure it does', { timeout: 120_000 }, async () => {
  const key = makeKeyPair(work, 'cluster');
  const secure = await capturedRun(['--key', key], ['--key', key], 'curve');
  const windows = weightWindows(secure.runDir, 40);
  assert.ok(secure.stream.length > 256 * 784 * 4, `only ${secure.stream.length} bytes captured`);
  assert.equal(found(secure.stream, windows), 0, 'weights in the clear on an encrypted run');

  const plain = await capturedRun(['--insecure', '--token', 'relay-test'], ['--insecure', '--token', 'relay-test'], 'insecure');
  const plainWindows = weightWindows(plain.runDir, 40);
  assert.ok(found(plain.stream, plainWindows) >= plainWindows.length / 2, 'the unencrypted run\'s weights should be readable in the capture');
});

test('a coordinator whose key the stage does not allow is refused, by name on both sides', { timeout: 120_000 }, async () => {
  const stageKey = makeKeyPair(work, 'stage');
  const otherKey = makeKeyPair(work, 'other');
  const stage = await startStage(['--key', stageKey]);
  // the coordinator knows the stage's public key but holds a key the stage does not allow
  const r = await alAsync([...train, '--stages', stage.address, '--key', otherKey, '--stage-key', join(work, 'stage.pub'), '--out', join(work, 'refused')]);
  assert.equal(r.code, 1, r.stderr);
  const otherPublic = readFileSync(join(work, 'other.pub'), 'utf8').split('\n')[1]!;
  assert.ok(r.stderr.includes(`the stage process at ${stage.address} refused our public key ${otherPublic}`), r.stderr);
  await until(() => stage.log().includes(`its public key ${otherPublic} is not among the keys this stage allows`), 5000, stage.log);
  // allowed with --allow: the same coordinator key is welcome at a stage that lists it
  const allowing = await startStage(['--key', stageKey, '--allow', join(work, 'other.pub')]);
  const ok = await alAsync([...train, '--stages', allowing.address, '--key', otherKey, '--stage-key', join(work, 'stage.pub'), '--out', join(work, 'allowed')]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('al keygen: a 0600 keypair and a public key file; never overwrites; bad --out and unencrypted remote stages exit 2', () => {
  const dir = tempDir('al-keygen-');
  const r = runAl(['keygen', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(join(dir, 'al.key')).mode & 0o777, 0o600);
  const pub = readFileSync(join(dir, 'al.pub'), 'utf8');
  const key = readFileSync(join(dir, 'al.key'), 'utf8');
  const publicKey = /^public (\S{40})$/m.exec(key)![1]!;
  assert.ok(pub.split('\n').includes(publicKey), 'the .pub file holds the public key of the .key file');
  assert.match(r.stdout, new RegExp(`public key ${publicKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const cases: [string[], RegExp][] = [
    [['keygen', '--out', dir], /--out: .*al\.key already exists; al keygen never overwrites a key/],
    [['keygen', '--out', join(dir, 'missing')], /--out: .*missing is not a directory/],
    [['stage', '--insecure', '--listen', '10.1.2.3:5000', '--token', 't'], /--insecure: only on a loopback address \(127\.0\.0\.1, \[::1\], localhost\); 10\.1\.2\.3 is not/],
    [['stage', '--insecure', '--listen', '0.0.0.0:5000', '--token', 't'], /--insecure: only on a loopback address .*0\.0\.0\.0 is not/],
    [[...train, '--stages', '127.0.0.1:5001,10.0.0.2:5001', '--insecure', '--token', 't'], /--insecure: only for stages on loopback .*10\.0\.0\.2:5001 is not/],
    [['stage', '--key', join(dir, 'al.pub')], /--key: .*al\.pub holds no keypair/],
    [[...train, '--processes', '2', '--key', join(dir, 'al.key')], /--key: only applies with --stages/],
  ];
  for (const [args, message] of cases) {
    const c = runAl(args, { env: { AL_KEY: '', AL_TOKEN: '' } });
    assert.equal(c.code, 2, `${args.join(' ')}: ${c.stderr}`);
    assert.match(c.stderr, message);
  }
  chmodSync(join(dir, 'al.key'), 0o644);
  const exposed = runAl(['stage', '--key', join(dir, 'al.key')], { env: { AL_KEY: '' } });
  assert.equal(exposed.code, 2);
  assert.match(exposed.stderr, /--key: .*al\.key is readable by others \(mode 0644\): run chmod 600/);
});
