// Start-up shared by the commands that compute: the native backend (a missing addon is an error
// with the fix, never a fall back to slow code) and the thread count.
import { setBackend } from '../backend/backend.js';
import type { Backend } from '../backend/kernel_names.js';

export async function useNativeBackend(threads?: number): Promise<Backend> {
  const { nativeBackend } = await import('../backend/native_backend.js');
  // the addon would load at the first kernel; loading it now reports a missing one before any work
  (await import('../backend/load_native.js')).loadNative();
  setBackend(nativeBackend);
  if (threads !== undefined) nativeBackend.setNumThreads(threads);
  return nativeBackend;
}

export { machineInfo } from '../run/machine.js';
