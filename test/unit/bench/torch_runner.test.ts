// Tests of the PyTorch runner without PyTorch: parsing and best-of logic run on
// fixture JSON, and the process paths use tiny /bin/sh stand-ins for python so
// CI machines without torch exercise every branch in well under a second each.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bestByWorkload,
  defaultTorchBenchScript,
  isTorchUnavailable,
  parseTorchBenchOutput,
  runTorchBench,
  type TorchBenchResult,
} from '../../../src/bench/torch_runner.js';
import { tempDir } from '../../util/temp_dir.js';

const FIXTURE = {
  torch: '1.13.0a0',
  isa: 'AVX2',
  config: { blas_info: 'generic', mkldnn: 'v2.6.3', mkldnn_available: true, mkl_available: false, parallel_backend: 'OpenMP' },
  quick: true,
  loadavg_start: [0.5, 0.2, 0.1],
  loadavg_end: [0.9, 0.3, 0.1],
  results: [
    { workload: 'conv-fwd', threads: 1, value: 49.6, unit: 'GFLOP/s', variant: 'channels_last/mkldnn', candidates: { 'nchw/mkldnn': 11.7, 'channels_last/mkldnn': 49.6 }, samples: [49.6] },
    { workload: 'conv-fwd', threads: 2, value: 90.1, unit: 'GFLOP/s', variant: 'channels_last/mkldnn', candidates: { 'nchw/mkldnn': 20.3, 'channels_last/mkldnn': 90.1 }, samples: [89, 90.1, 91] },
    { workload: 'train-resnet20', threads: 1, value: 108.4, unit: 'samples/s', variant: 'channels_last', candidates: { nchw: 108.0, 'channels_last': 108.4 }, samples: [108.4], params: 272474 },
    { workload: 'train-resnet20', threads: 2, value: 101.0, unit: 'samples/s', variant: 'nchw', candidates: { nchw: 101.0, 'channels_last': 99.0 }, samples: [101.0], params: 272474 },
    { workload: 'matmul-2048', threads: 1, value: 70, unit: 'GFLOP/s', variant: 'mkldnn', candidates: { mm: 2.9, mkldnn: 70 }, samples: [70] },
    { workload: 'matmul-2048', threads: 2, value: 70, unit: 'GFLOP/s', variant: 'mm', candidates: { mm: 70 }, samples: [70] },
  ],
};

function withResults(results: unknown[]): string {
  return JSON.stringify({ ...FIXTURE, results });
}

test('parse: takes the last non-empty stdout line and maps it to the typed result', () => {
  const stdout = `conv-fwd  t=1  49.6 GFLOP/s\nsome stray print\n${JSON.stringify(FIXTURE)}\n\n`;
  const r = parseTorchBenchOutput(stdout, ['al-pipeline']);
  assert.equal(r.torch, '1.13.0a0');
  assert.equal(r.isa, 'AVX2');
  assert.deepEqual(r.config, { blasInfo: 'generic', mkldnn: 'v2.6.3', mkldnnAvailable: true, mklAvailable: false, parallelBackend: 'OpenMP' });
  assert.equal(r.quick, true);
  assert.deepEqual(r.loadavgStart, [0.5, 0.2, 0.1]);
  assert.deepEqual(r.skipped, ['al-pipeline']);
  assert.equal(r.results.length, 6);
  assert.equal(r.results[2]?.params, 272474);
  assert.equal(r.results[0]?.params, undefined);
  assert.deepEqual(r.results[1]?.samples, [89, 90.1, 91]);
});

test('parse: minimal rows get candidates/samples filled from value', () => {
  const r = parseTorchBenchOutput(
    JSON.stringify({ torch: '2.3.0', results: [{ workload: 'train-mlp', threads: 2, value: 900, unit: 'samples/s', variant: 'nchw' }] }),
  );
  assert.equal(r.isa, 'unknown');
  assert.equal(r.config, null);
  assert.equal(r.loadavgStart, null);
  assert.deepEqual(r.results[0]?.candidates, { nchw: 900 });
  assert.deepEqual(r.results[0]?.samples, [900]);
});

test('parse: rejects output that breaks the contract, naming the field', () => {
  const row = FIXTURE.results[0]!;
  const cases: [string, RegExp][] = [
    ['', /stdout is empty/],
    ['\n  \n', /stdout is empty/],
    ['Traceback (most recent call last):', /not JSON/],
    ['[1,2]', /not a JSON object/],
    [JSON.stringify({ results: [] }), /"torch"/],
    [JSON.stringify({ torch: '1', results: {} }), /"results"/],
    [withResults([{ ...row, unit: 'GB/s' }]), /results\[0\]\.unit/],
    [withResults([row, { ...row, value: 'fast' }]), /results\[1\]\.value/],
    [withResults([{ ...row, threads: 0 }]), /results\[0\]\.threads/],
    [withResults([{ ...row, threads: 1.5 }]), /results\[0\]\.threads/],
    [withResults([{ ...row, workload: '' }]), /results\[0\]\.workload/],
    [withResults([{ ...row, params: -3 }]), /results\[0\]\.params/],
    [withResults([{ ...row, candidates: { nchw: null } }]), /candidates\.nchw/],
    // JSON.stringify turns NaN into null, which must not pass as a figure.
    [withResults([{ ...row, value: NaN }]), /results\[0\]\.value/],
  ];
  for (const [stdout, re] of cases) assert.throws(() => parseTorchBenchOutput(stdout), re, stdout);
});

test('bestByWorkload: highest value per workload, fewer threads on a tie', () => {
  const best = bestByWorkload(parseTorchBenchOutput(JSON.stringify(FIXTURE)));
  assert.deepEqual([...best.keys()], ['conv-fwd', 'train-resnet20', 'matmul-2048']);
  assert.deepEqual(best.get('conv-fwd'), { value: 90.1, threads: 2, variant: 'channels_last/mkldnn', unit: 'GFLOP/s' });
  // 1 thread beats 2 here (a loaded machine or a small model): the best setting is 1.
  assert.deepEqual(best.get('train-resnet20'), { value: 108.4, threads: 1, variant: 'channels_last', unit: 'samples/s', params: 272474 });
  assert.equal(best.get('matmul-2048')?.threads, 1);
  assert.equal(best.get('matmul-2048')?.variant, 'mkldnn');
  // Order of rows must not matter.
  const reversed = bestByWorkload({ results: [...parseTorchBenchOutput(JSON.stringify(FIXTURE)).results].reverse() });
  assert.equal(reversed.get('matmul-2048')?.threads, 1);
  assert.equal(reversed.get('conv-fwd')?.threads, 2);
  assert.equal(bestByWorkload({ results: [] }).size, 0);
});

// ---- process paths, with shell scripts standing in for python ---------------

const dir = tempDir('al-torch-runner-');
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes an executable fake python; `bench` is the shell body run for the script call. */
function fakePython(name: string, bench: string, probe = 'printf 1.13.0; exit 0'): string {
  const path = join(dir, name);
  const body = `#!/bin/sh
if [ "$1" = "-c" ]; then ${probe}; fi
printf '%s\\n' "$@" > "${path}.args"
${bench}
`;
  writeFileSync(path, body);
  chmodSync(path, 0o755);
  return path;
}

const base = { workloads: ['conv-fwd', 'train-resnet20'], threads: [1, 2], quick: true };

test('the bench script is found from the compiled module', () => {
  const script = defaultTorchBenchScript();
  assert.ok(script !== null && script.endsWith(join('bench', 'torch_bench.py')), String(script));
});

test('unavailable: python that does not exist', async () => {
  const r = await runTorchBench({ ...base, python: join(dir, 'no-such-python') });
  assert.ok(isTorchUnavailable(r));
  assert.match(r.unavailable, /not importable.*cannot start.*ENOENT/);
});

test('unavailable: python without torch, reason names the import error', async () => {
  const python = fakePython('notorch', 'exit 99', `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`);
  const r = await runTorchBench({ ...base, python });
  assert.ok(isTorchUnavailable(r));
  assert.match(r.unavailable, /exit code 1: ModuleNotFoundError: No module named 'torch'/);
});

test('unavailable: node itself as "python" (cannot run python -c)', async () => {
  const r = await runTorchBench({ ...base, python: process.execPath, probeTimeoutMs: 4000 });
  assert.ok(isTorchUnavailable(r));
});

test('full run: forwards options, skips unknown workloads, parses the last line', async () => {
  const fixtureFile = join(dir, 'fixture.json');
  writeFileSync(fixtureFile, JSON.stringify(FIXTURE));
  const python = fakePython('ok', `echo "[torch_bench] progress" >&2; echo "human table"; cat "${fixtureFile}"; echo`);
  const progress: string[] = [];
  const stderr: string[] = [];
  const r = await runTorchBench({
    ...base,
    workloads: ['conv-fwd', 'al-pipelined', 'train-resnet20', 'conv-fwd'],
    python,
    onProgress: (l) => progress.push(l),
    onStderr: (t) => stderr.push(t),
  });
  assert.ok(!isTorchUnavailable(r), JSON.stringify(r));
  const res: TorchBenchResult = r;
  assert.equal(res.results.length, 6);
  assert.deepEqual(res.skipped, ['al-pipelined']);
  assert.deepEqual(progress, ['[torch_bench] progress']);
  assert.deepEqual(stderr, [], 'stderr is forwarded only on failure');
  const args = readFileSync(`${python}.args`, 'utf8').trim().split('\n');
  assert.ok(args[0]?.endsWith('torch_bench.py'));
  assert.deepEqual(args.slice(1), ['--workloads', 'conv-fwd,train-resnet20', '--threads', '1,2', '--json', '--quick']);
});

test('failure: non-zero exit returns unavailable and forwards stderr', async () => {
  const python = fakePython('crash', `echo "Traceback: boom" >&2; echo "RuntimeError: oneDNN failed" >&2; exit 3`);
  const stderr: string[] = [];
  const r = await runTorchBench({ ...base, quick: false, python, onStderr: (t) => stderr.push(t) });
  assert.ok(isTorchUnavailable(r));
  assert.match(r.unavailable, /exit code 3: RuntimeError: oneDNN failed/);
  assert.equal(stderr.join(''), 'Traceback: boom\nRuntimeError: oneDNN failed\n');
  assert.ok(!readFileSync(`${python}.args`, 'utf8').includes('--quick'));
});

test('failure: unparsable output returns unavailable and forwards stderr', async () => {
  const python = fakePython('garbage', `echo "warning: x" >&2; echo "not json"`);
  const stderr: string[] = [];
  const r = await runTorchBench({ ...base, python, onStderr: (t) => stderr.push(t) });
  assert.ok(isTorchUnavailable(r));
  assert.match(r.unavailable, /not JSON/);
  assert.equal(stderr.join(''), 'warning: x\n');
});

test('failure: a hung script is killed at the timeout', async () => {
  const python = fakePython('hang', 'exec sleep 30');
  const t0 = Date.now();
  const r = await runTorchBench({ ...base, python, timeoutMs: 300, onStderr: () => {} });
  assert.ok(isTorchUnavailable(r));
  assert.match(r.unavailable, /timed out/);
  assert.ok(Date.now() - t0 < 3000);
});

test('no PyTorch counterpart for any workload, and invalid threads', async () => {
  const r = await runTorchBench({ ...base, workloads: ['al-only'], python: join(dir, 'unused') });
  assert.deepEqual(r, { unavailable: 'no requested workload has a PyTorch counterpart' });
  await assert.rejects(runTorchBench({ ...base, threads: [0] }), TypeError);
  await assert.rejects(runTorchBench({ ...base, threads: [] }), TypeError);
});
