// Where a structured clone (a worker's message) or decoded frames (a stage process's) become a
// message: each channel declares its message types and their required fields once, and
// parseMessage checks a value against that declaration, so receivers switch on a discriminated
// union and never cast. A value that does not fit is a MessageError naming the channel, the
// message type and the field.

/** What a field must hold. `tensor` is {data: Float32Array, shape} with as many elements as the shape says. */
export type FieldKind = 'number' | 'string' | 'boolean' | 'object' | 'array' | 'tensor' | 'f32' | 'i32' | 'string|null' | 'any';
/** A field's kind, optional when it ends in '?' (then it may be absent, but not of another kind). */
export type FieldSpec = FieldKind | `${FieldKind}?`;
export type Fields = Readonly<Record<string, FieldSpec>>;
/** For each message type of a channel, its fields besides `type`. */
export type ChannelSpec<U extends { type: string }> = { readonly [K in U['type']]: Fields };

export class MessageError extends Error {
  override name = 'MessageError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
}

function fits(kind: FieldKind, value: unknown): boolean {
  switch (kind) {
    case 'number': return typeof value === 'number';
    case 'string': return typeof value === 'string';
    case 'boolean': return typeof value === 'boolean';
    case 'object': return isObject(value);
    case 'array': return Array.isArray(value);
    case 'f32': return value instanceof Float32Array;
    case 'i32': return value instanceof Int32Array;
    case 'string|null': return value === null || typeof value === 'string';
    case 'any': return value !== undefined;
    case 'tensor':
      return isObject(value) && value['data'] instanceof Float32Array && isShape(value['shape'])
        && value['shape'].reduce((a, b) => a * b, 1) === value['data'].length;
  }
}

/** A short description of a value for an error message. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (isObject(value)) {
    const { data, shape } = value;
    if (data instanceof Float32Array) return `a tensor of ${data.length} elements, shape ${JSON.stringify(shape)}`;
    return 'an object';
  }
  if (typeof value === 'string') return `'${value.slice(0, 40)}'`;
  return `${typeof value} ${String(value)}`;
}

/** Checks `fields` of `value` (an object), naming `what` in the error. */
export function checkFields(what: string, fields: Fields, value: unknown): void {
  if (!isObject(value)) throw new MessageError(`${what}: expected an object, got ${describe(value)}`);
  for (const [name, spec] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const kind = (optional ? spec.slice(0, -1) : spec) as FieldKind;
    const field = value[name];
    if (optional && field === undefined) continue;
    if (!fits(kind, field)) throw new MessageError(`${what}: expected ${kind} for ${name}, got ${describe(field)}`);
  }
}

/** `m` as a message of `channel`: its type one of the spec's and its fields of their kinds. */
export function parseMessage<U extends { type: string }>(channel: string, spec: ChannelSpec<U>, m: unknown): U {
  if (!isObject(m)) throw new MessageError(`${channel}: expected a message, got ${describe(m)}`);
  const type = m['type'];
  if (typeof type !== 'string') throw new MessageError(`${channel}: expected a string for type, got ${describe(type)}`);
  if (!Object.hasOwn(spec, type)) {
    throw new MessageError(`${channel}: expected a message of type ${Object.keys(spec).map((t) => `'${t}'`).join(', ')}, got ${describe(type)}`);
  }
  checkFields(`${channel}: '${type}' message`, (spec as Record<string, Fields>)[type]!, m);
  return m as U;
}
