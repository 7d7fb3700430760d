// `al bench`: throughput of the compute core and of BP training, with oneDNN called directly and
// PyTorch (when /usr/bin/python3 can import torch) measured in the same invocation, so every
// figure comes with a ratio against a baseline run on the same machine at the same time.
import { availableParallelism } from 'node:os';
import { KERNEL_WORKLOADS, runKernel, type DirectBench, type KernelResult } from '../../bench/kernels.js';
import { FULL, QUICK } from '../../bench/timing.js';
import { TRAINING_WORKLOADS, trainingSamplesPerSec } from '../../bench/training.js';
import { bestByWorkload, runTorchBench } from '../../bench/torch_runner.js';
import { parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { machineInfo, useNativeBackend } from '../runtime.js';

export const benchUsage = `Usage: al bench [--quick] [--json] [--threads 1,2] [--only kernels|training] [--no-torch]

Measures, in one run on this machine:
  - matmul and convolution GFLOP/s through our binding, and oneDNN called directly on the same shapes;
  - BP training samples/s (batch 128, forward + backward + Adam) for MLP (28x28x1),
    Vanilla CNN and ResNet-20 (32x32x3), and sequential AL samples/s for the MLP and the
    Vanilla CNN cut the authors' way (28x28x1);
  - the same workloads in PyTorch when /usr/bin/python3 can import torch, with ours/PyTorch ratios
    against PyTorch at its best thread setting.

  --quick         shorter timings (noisier)
  --threads LIST  thread counts to measure (default 1 and ${Math.min(2, availableParallelism())})
  --only PART     kernels or training
  --no-torch      skip PyTorch
  --json          print one JSON object with every figure as the last stdout line
`;

const flags: FlagSpec = {
  quick: { type: 'boolean' }, json: { type: 'boolean' }, threads: { type: 'string' },
  only: { type: 'string' }, 'no-torch': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

function parseThreads(value: string | undefined): number[] {
  if (value === undefined) return [...new Set([1, Math.min(2, availableParallelism())])];
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) {
    throw new UsageError(`--threads: expected a comma-separated list of integers from 1 to 256, got '${value}'`);
  }
  return list;
}

const fmt = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, flags);
  if (values['help']) {
    process.stdout.write(benchUsage);
    return 0;
  }
  const threads = parseThreads(str(values, 'threads'));
  const only = str(values, 'only');
  if (only !== undefined && only !== 'kernels' && only !== 'training') throw new UsageError(`--only: expected kernels or training, got '${only}'`);
  const timing = values['quick'] ? QUICK : FULL;
  const json = values['json'] === true;
  const out = (line: string): void => {
    if (!json) process.stdout.write(line + '\n');
  };

  const backend = await useNativeBackend();
  const { nativeBench } = await import('../../backend/native_backend.js');
  const machine = machineInfo(backend);
  out(`machine: ${machine['cpu']}, ${machine['cores']} cores, oneDNN ISA ${machine['isa']}, node ${machine['node']}`);

  const workloads = [
    ...(only !== 'training' ? KERNEL_WORKLOADS.map((w) => w.name) : []),
    ...(only !== 'kernels' ? TRAINING_WORKLOADS.map((w) => w.name) : []),
  ];
  // PyTorch runs first, alone, so the two never compete for the cores.
  const torch = values['no-torch'] ? { unavailable: 'skipped (--no-torch)' } : await runTorchBench({ workloads, threads, quick: timing === QUICK });
  const torchBest = 'unavailable' in torch ? new Map() : bestByWorkload(torch);
  out('unavailable' in torch ? `PyTorch: ${torch.unavailable}` : `PyTorch ${torch.torch} (${torch.isa}), best thread setting per workload`);

  const kernels: KernelResult[] = [];
  if (only !== 'training') {
    out('\nkernel                     threads   ours GFLOP/s   oneDNN direct   ours/direct   PyTorch best   ours/PyTorch');
    for (const w of KERNEL_WORKLOADS) {
      for (const t of threads) {
        const r = runKernel(w, backend, nativeBench as DirectBench, t, timing);
        kernels.push(r);
        const pt = torchBest.get(w.name);
        out(`${w.name.padEnd(27)}${String(t).padStart(7)}${fmt(r.gflops).padStart(15)}${fmt(r.directGflops).padStart(16)}${fmt(r.gflops / r.directGflops, 2).padStart(14)}${fmt(pt?.value).padStart(15)}${fmt(pt ? r.gflops / pt.value : undefined, 2).padStart(15)}`);
      }
    }
  }

  const training: { workload: string; threads: number; samplesPerSec: number; params: number }[] = [];
  if (only !== 'kernels') {
    out('\ntraining (batch 128)       threads   ours samples/s   PyTorch best (threads)   ours/PyTorch best   params (ours / PyTorch)');
    for (const w of TRAINING_WORKLOADS) {
      for (const t of threads) {
        backend.setNumThreads(t);
        const r = trainingSamplesPerSec(w, 128, timing);
        training.push({ workload: w.name, threads: t, ...r });
        const pt = torchBest.get(w.name);
        const params = `${r.params.toLocaleString('en-US')} / ${pt?.params?.toLocaleString('en-US') ?? '-'}`;
        out(`${w.name.padEnd(27)}${String(t).padStart(7)}${fmt(r.samplesPerSec).padStart(17)}${(pt ? `${fmt(pt.value)} (${pt.threads})` : '-').padStart(25)}${fmt(pt ? r.samplesPerSec / pt.value : undefined, 2).padStart(20)}   ${params}`);
      }
    }
  }
  if (json) process.stdout.write(JSON.stringify({ machine, threads, kernels, training, torch }) + '\n');
  return 0;
}
