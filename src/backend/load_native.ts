// The one place that loads the compiled addons (build/Release/al_native.node, and al_bench.node
// for `al bench`). Both the compiled file (dist/src/backend/) and its source (src/backend/) find
// the package root by walking up to the package.json that names this package, so the answer does
// not depend on the working directory or on how deep the compiled tree is.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { AnalysisKernels } from './analysis_kernels.js';
import type { Backend } from './kernel_names.js';

const PACKAGE_NAME = 'associated-learning';

export type ConvLayout = 'auto' | 'nhwc' | 'blocked';

export interface NativeInfo {
  onednnVersion: string;
  onednnHash: string;
  cpuRuntime: string;
  isa: string;
  threads: number;
  /** primitives cached by the calling thread */
  cachedPrimitives: number;
}

/** The addon's buffer pool, process-wide. */
export interface BufferPoolStats {
  /** bytes freed by V8 and kept for reuse */
  pooledBytes: number;
  buffers: number;
  /** requests served from the pool, and served by new memory */
  hits: number;
  misses: number;
  /** buffers given back to the system after waiting unused for 2 s */
  expired: number;
}

/** What al_native.node exports: every Backend method under its own name, the analysis kernels, and diagnostics. */
export interface NativeAddon extends Omit<Backend, 'name' | 'pooledBuffer' | 'zeroedBuffer' | 'channelBlock'>, AnalysisKernels {
  channelBlock(): number;
  info(): NativeInfo;
  clearCache(): void;

  /** `bytes` uninitialised bytes whose memory returns to a process-wide pool when V8 frees them (buffer_pool.cc). */
  pooledArrayBuffer(bytes: number): ArrayBuffer;
  /** `bytes` zero bytes on memory advised for huge pages, pooled the same way once freed. */
  zeroedArrayBuffer(bytes: number): ArrayBuffer;
  bufferPoolStats(): BufferPoolStats;

  /** Where convolutions keep activations ('auto' picks per shape); per calling thread. */
  setConvLayout(layout: ConvLayout): void;
}

/** The directory holding this package's package.json, searched upwards from `start`. */
export function packageRoot(start: string): string | null {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // an unreadable package.json on the way up is not ours
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

function candidatePaths(file: string): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const roots = new Set<string>();
  const found = packageRoot(here);
  if (found !== null) roots.add(found);
  // Fallbacks for a copy without package.json: dist/src/backend/ and src/backend/ layouts.
  roots.add(resolve(here, '..', '..', '..'));
  roots.add(resolve(here, '..', '..'));
  const paths: string[] = [];
  for (const root of roots) {
    paths.push(join(root, 'build', 'Release', file));
    paths.push(join(root, 'build', 'Debug', file));
  }
  return paths;
}

const cached = new Map<string, unknown>();

/** The addon, loaded on first use; throws an Error that lists every path tried and the fix. */
export function loadNative(): NativeAddon {
  return loadAddonFile<NativeAddon>('al_native.node');
}

/** A compiled module of this package's build/ by file name, loaded once; the error lists every path tried and the fix. */
export function loadAddonFile<T>(file: string): T {
  const loaded = cached.get(file);
  if (loaded !== undefined) return loaded as T;
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of candidatePaths(file)) {
    if (!existsSync(path)) {
      failures.push(`  ${path}: not found`);
      continue;
    }
    try {
      const addon = require(path) as T;
      cached.set(file, addon);
      return addon;
    } catch (e) {
      failures.push(`  ${path}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `associated-learning: could not load the native addon ${file}. Tried:\n` +
      failures.join('\n') +
      '\nTo fix: install oneDNN and a compiler (sudo apt-get install -y libdnnl-dev build-essential), ' +
      'then build the addon with `npm install` (or `npx node-gyp rebuild`) in the package directory.',
  );
}
