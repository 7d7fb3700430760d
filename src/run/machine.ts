import { cpus } from 'node:os';
import type { Backend } from '../backend/kernel_names.js';

/** Where a run computed, for its config.json: the CPU, the ISA oneDNN chose, threads, Node and the backend. */
export function machineInfo(backend: Backend): Record<string, string | number> {
  const cpu = cpus()[0];
  return {
    cpu: cpu?.model ?? 'unknown',
    cores: cpus().length,
    isa: backend.cpuIsa(),
    threads: backend.getNumThreads(),
    node: process.version,
    backend: backend.name,
  };
}
