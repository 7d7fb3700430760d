// Which backend the tensor layer dispatches to. There is no silent default: the CLI selects the
// native backend at start-up (a missing addon is a clear error there), unit tests select the
// reference backend, and a call before either is a programming error that says so.
import type { Backend } from './kernel_names.js';

let current: Backend | null = null;

export function setBackend(backend: Backend): void {
  current = backend;
}

export function backend(): Backend {
  if (current === null) {
    throw new Error('no compute backend selected: call setBackend(nativeBackend) or setBackend(referenceBackend) first');
  }
  return current;
}

export function hasBackend(): boolean {
  return current !== null;
}
