// Which backend the tensor layer dispatches to. By default the native oneDNN backend, selected when
// the first kernel runs with none chosen, so a library user need not choose; setBackend chooses
// another (unit tests select the reference backend). A missing addon is an error that names both
// ways out, never a silent fall back to slow code.
//
// native_backend.ts registers itself as the default when it is imported (the library's entry
// imports it), so this module, below everything, does not depend on it.
import type { Backend } from './kernel_names.js';

let current: Backend | null = null;
let fallback: (() => Backend) | null = null;

/** Makes `backend` the one every later tensor operation runs on (e.g. `setBackend(referenceBackend)`). */
export function setBackend(backend: Backend): void {
  current = backend;
}

/** The backend `backend()` selects when none was set: `select` returns it, or throws why it cannot. */
export function setDefaultBackend(select: () => Backend): void {
  fallback = select;
}

/** The selected backend; the first call without a selection selects the default (the native backend). */
export function backend(): Backend {
  if (current !== null) return current;
  if (fallback === null) {
    throw new Error("no compute backend selected: call setBackend(referenceBackend), or import the library's entry, whose default is the native backend");
  }
  try {
    current = fallback();
  } catch (error) {
    throw new Error(
      `no compute backend selected, and the default one, the native oneDNN backend, is not available: ${(error as Error).message}\n` +
        "To run on the pure-TypeScript reference backend instead (slow, for small examples and tests), call setBackend(referenceBackend) first: import { setBackend, referenceBackend } from 'associated-learning'.",
      { cause: error },
    );
  }
  return current;
}

/** Whether a backend is selected yet (asking does not select the default). */
export function hasBackend(): boolean {
  return current !== null;
}

/**
 * Runs `build` with normal draws skipped: weights initialised from normals stay zero. For networks
 * whose weights are overwritten at once (a pipeline stage's, shipped by the coordinator) or never
 * matter (counting multiply-adds): a wide AL net draws tens of millions of them.
 */
export function withoutWeightDraws<T>(build: () => T): T {
  const inner = backend();
  return withBackend(new Proxy(inner, { get: (target, key, receiver) => (key === 'normalFill' ? () => Number.NaN : Reflect.get(target, key, receiver)) }), build);
}

/** Runs `body` on `backend`, then puts the backend selected before back, however `body` ends. */
export function withBackend<T>(backend: Backend, body: () => T): T {
  const before = current;
  setBackend(backend);
  try {
    return body();
  } finally {
    current = before;
  }
}
