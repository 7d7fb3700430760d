// Pipelined AL across "hosts": two `al stage` processes, each in its own network namespace and
// listening on that namespace's address, and the coordinator in a third namespace that routes
// between them (test/util/netns.ts). A run must end with the same checkpoint bytes as the same
// run on worker threads (over CurveZMQ, with one keypair for the cluster), and its batches must
// have crossed the namespaces' links. A stage host
// that goes silent (its link down: no FIN, no RST, only the heartbeats notice) must be named
// within a bounded time, the other stage must free itself for the next run, and the run resumed
// after restarting the lost stage must end as if nothing had happened.
//
// The coordinator gets a namespace of its own rather than the machine's: then nothing is added to
// the machine's interfaces or routes, parallel runs cannot clash on addresses, and no process of
// the run has any route but these links and loopback. Skipped, with the reason, where namespaces
// cannot be created (no iproute2, not root, no CAP_NET_ADMIN).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeKeyPair } from '../util/al_cli.js';
import { createHosts, type Hosts } from '../util/netns.js';
import { tempDir } from '../util/temp_dir.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const al = join(root, 'bin', 'al.js');
const PORT = 5555;
const [LIMIT, EPOCHS, T_WIDTH] = [256, 2, 32];

interface Finished { code: number | null; stdout: string; stderr: string }

/** Runs a command to its end (killed after `timeoutMs`), collecting its output. */
function finish(child: ChildProcess, timeoutMs = 120_000): Promise<Finished> {
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolveRun) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolveRun({ code, stdout, stderr });
  }));
}

/**
 * `al ARGS` in a namespace. `ip netns exec` and setpriv exec the command in place, so the child is
 * the node process itself; --pdeathsig kills it if this process dies, so nothing outlives a test
 * process killed outright.
 */
function alIn(namespace: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', namespace, 'setpriv', '--pdeathsig', 'SIGKILL', process.execPath, al, ...args], { env: { ...process.env, ...env } });
}

/** `al stage` inside a namespace; resolves once it listens, with what it wrote to stderr so far. */
async function startStage(namespace: string, listen: string, token: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = alIn(namespace, ['stage', '--listen', listen], { AL_TOKEN: token });
  let stdout = '', stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((listening, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`al stage in ${namespace} did not listen within 20 s: ${stderr}`));
    }, 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes(`listening on ${listen}`)) {
        clearTimeout(timer);
        listening();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`al stage in ${namespace} exited (code ${code}): ${stderr}`));
    });
  });
  return { child, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Namespaces, a scratch directory, a token and started stages that the test's end removes; null (test skipped) where namespaces are not permitted. */
function setUp(t: TestContext): { hosts: Hosts; base: string; token: string; listens: string[]; stages: ChildProcess[] } | null {
  let hosts: Hosts;
  try {
    hosts = createHosts(2);
  } catch (error) {
    t.skip(`network namespaces not permitted here: ${(error as Error).message}`);
    return null;
  }
  const base = tempDir('al-netns-');
  const stages: ChildProcess[] = [];
  t.after(async () => {
    await Promise.all(stages.map(stop));
    hosts.remove();
    rmSync(base, { recursive: true, force: true });
  });
  const token = `netns-${process.pid}-${Math.random().toString(36).slice(2)}`;
  // one keypair for the coordinator and both stages, through the environment of each child
  process.env['AL_KEY'] = makeKeyPair(base);
  return { hosts, base, token, listens: hosts.stages.map((s) => `${s.address}:${PORT}`), stages };
}

const sameCheckpoint = (a: string, b: string): boolean => readFileSync(join(a, 'checkpoint.safetensors')).equals(readFileSync(join(b, 'checkpoint.safetensors')));

test('pipelined AL across stage processes in two network namespaces: the worker-thread checkpoint, over the namespaces\' links', async (t) => {
  const setup = setUp(t);
  if (!setup) return;
  const { hosts, base, token, listens, stages } = setup;
  for (const [k, s] of hosts.stages.entries()) stages.push((await startStage(s.namespace, listens[k]!, token)).child);
  const before = hosts.stages.map((s) => hosts.receivedBytes(s.namespace));

  const common = ['train', '--model', 'mlp', '--method', 'al', '--pipeline', '--al-layers', '2', '--t-width', String(T_WIDTH), '--limit', String(LIMIT), '--epochs', String(EPOCHS), '--batch', '64'];
  const coordinator = await finish(alIn(hosts.hub, [...common, '--stages', listens.join(','), '--token', token, '--out', join(base, 'netns')]));
  assert.equal(coordinator.code, 0, coordinator.stderr);
  assert.match(coordinator.stdout, /pipeline: 2 stages in stage processes at 10\.213\.1\.2:5555, 10\.213\.2\.2:5555 \(AL layers 1 \| 2; \d+ % \| \d+ % of the multiply-adds\)/);

  const threads = await finish(spawn(process.execPath, [al, ...common, '--out', join(base, 'threads')]));
  assert.equal(threads.code, 0, threads.stderr);
  assert.ok(sameCheckpoint(join(base, 'netns'), join(base, 'threads')), 'the run across namespaces ends with the worker-thread run\'s checkpoint');

  // Lower bounds on what must have crossed each stage's link: stage 1 gets every input image from
  // the coordinator, stage 2 gets s_1 and t_1 of every sample from stage 1 (through the hub).
  const received = hosts.stages.map((s, k) => hosts.receivedBytes(s.namespace) - before[k]!);
  t.diagnostic(`bytes received over the links: stage 1 ${received[0]}, stage 2 ${received[1]}`);
  assert.ok(received[0]! >= EPOCHS * LIMIT * 784 * 4, `stage 1's link received ${received[0]} bytes`);
  assert.ok(received[1]! >= EPOCHS * LIMIT * 2 * T_WIDTH * 4, `stage 2's link received ${received[1]} bytes`);

  // beyond loopback a stage will not run unencrypted
  const insecure = await finish(alIn(hosts.stages[0]!.namespace, ['stage', '--insecure', '--listen', `${hosts.stages[0]!.address}:${PORT + 1}`, '--token', token]));
  assert.equal(insecure.code, 2, insecure.stderr);
  assert.match(insecure.stderr, /--insecure: only on a loopback address \(127\.0\.0\.1, \[::1\], localhost\); 10\.213\.1\.2 is not/);
});

test('a stage host that goes silent mid-run is named within the heartbeat timeout; the other stage frees itself, and after restarting the lost one, --resume ends with the uninterrupted checkpoint', async (t) => {
  const setup = setUp(t);
  if (!setup) return;
  const { hosts, base, token, listens, stages } = setup;
  const [one, two] = hosts.stages as [Hosts['stages'][0], Hosts['stages'][0]];
  const survivor = await startStage(one.namespace, listens[0]!, token);
  const lost = await startStage(two.namespace, listens[1]!, token);
  stages.push(survivor.child, lost.child);
  // epochs long enough that the fault lands while the run goes on (it is taken after epoch 1's checkpoint)
  const common = ['train', '--model', 'mlp', '--method', 'al', '--pipeline', '--al-layers', '2', '--t-width', String(T_WIDTH), '--limit', '4096', '--epochs', '3', '--batch', '64'];
  const run = join(base, 'netns');
  const coordinator = alIn(hosts.hub, [...common, '--stages', listens.join(','), '--out', run], { AL_TOKEN: token });
  const ended = finish(coordinator);
  const metrics = join(run, 'metrics.jsonl');
  while (coordinator.exitCode === null && !(existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"epoch":1'))) await new Promise((r) => setTimeout(r, 50));
  hosts.setLink(two.namespace, false);
  const silent = performance.now();
  const failed = await ended;
  const noticed = performance.now() - silent;
  t.diagnostic(`a silent stage host noticed after ${noticed.toFixed(0)} ms`);
  assert.equal(failed.code, 1, `the run fails: ${failed.stdout}${failed.stderr}`);
  assert.match(failed.stderr, /al train: pipeline stage 2 \(AL layer 2\): lost the connection to the stage process at 10\.213\.2\.2:5555 \(it exited or its host went silent\)/);
  assert.ok(noticed < 3000 + 7000, `noticed after ${noticed.toFixed(0)} ms: ZeroMQ's heartbeat timeout is 3 s`);

  // the surviving stage is told to stop by the failing coordinator (or, if that message is lost,
  // sees the coordinator go within its send timeout) and waits for the next one
  const freed = /the coordinator stopped it; waiting for the next one|lost the coordinator; the run is over, waiting for the next one/;
  const gone = performance.now();
  while (!freed.test(survivor.stderr()) && performance.now() - gone < 10_000) await new Promise((r) => setTimeout(r, 50));
  assert.match(survivor.stderr(), freed);

  // the host comes back and its stage is started again; the survivor serves the resumed run
  hosts.setLink(two.namespace, true);
  await stop(lost.child);
  stages.push((await startStage(two.namespace, listens[1]!, token)).child);
  const resumed = await finish(alIn(hosts.hub, ['train', '--resume', run], { AL_TOKEN: token }));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resumed after epoch [12]/);
  assert.equal(survivor.child.exitCode, null, 'the same stage process served both runs');
  const threads = await finish(spawn(process.execPath, [al, ...common, '--out', join(base, 'threads')]));
  assert.equal(threads.code, 0, threads.stderr);
  assert.ok(sameCheckpoint(run, join(base, 'threads')), 'the resumed run ends with the uninterrupted run\'s checkpoint');
});
