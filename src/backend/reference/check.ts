// Argument checks shared by the reference kernels. The messages match the native addon's
// (napi_args.h): they start with the kernel name, so a failing call says which kernel and which
// buffer was wrong, whichever backend is running.

/** Every shape value must be a non-negative integer (a negative one would make lengths meaningless). */
export function requireDims(kernel: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${kernel}: ${name} must be a non-negative integer, got ${v}`);
  }
}

/** A buffer must hold at least what the shape says; a longer one is a view of which the prefix is used. */
export function requireLength(kernel: string, name: string, a: { length: number }, needed: number): void {
  if (a.length < needed) throw new RangeError(`${kernel}: ${name} holds ${a.length} elements, the shape needs ${needed}`);
}

/** Shapeless elementwise kernels take their size from the first buffer; the others must match it exactly. */
export function requireSameLength(kernel: string, name: string, a: { length: number }, expected: number, what: string): void {
  if (a.length !== expected) throw new RangeError(`${kernel}: ${name} holds ${a.length} elements, ${what} holds ${expected}`);
}
