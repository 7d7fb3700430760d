// Which backend the tensor layer dispatches to. By default the native oneDNN backend, loaded when
// the first kernel runs, so a library user need not choose; setBackend chooses another (unit tests
// select the reference backend). A missing addon is an error that names both ways out, never a
// silent fall back to slow code.
import type { Backend } from './kernel_names.js';
import { loadNative } from './load_native.js';
import { nativeBackend } from './native_backend.js';

let current: Backend | null = null;

/** Makes `backend` the one every later tensor operation runs on (e.g. `setBackend(referenceBackend)`). */
export function setBackend(backend: Backend): void {
  current = backend;
}

/** The native backend, loading the addon; without it, an error with the fix and the alternative. */
function defaultBackend(): Backend {
  try {
    loadNative();
  } catch (error) {
    throw new Error(
      `no compute backend selected, and the default one, the native oneDNN backend, is not available: ${(error as Error).message}\n` +
        "To run on the pure-TypeScript reference backend instead (slow, for small examples and tests), call setBackend(referenceBackend) first: import { setBackend, referenceBackend } from 'associated-learning'.",
      { cause: error },
    );
  }
  return nativeBackend;
}

/** The selected backend; the first call without a selection selects the native backend. */
export function backend(): Backend {
  return (current ??= defaultBackend());
}

/** Whether a backend is selected yet (asking does not select the default). */
export function hasBackend(): boolean {
  return current !== null;
}
