// Named tensors as plain data, to ship a stage its initial state and collect it back: the same
// names as the whole model's (module index first), checked by name and size on the way in.
import type { Layer } from '../../nn/layer.js';
import type { Tensor } from '../../tensor/tensor.js';
import { StageConfigError } from './errors.js';

/** Parameters and buffers of modules[i] as "<indices[i]>.<name>"; copies when `copy`, else the live arrays. */
export function moduleTensors(modules: readonly Layer[], indices: readonly number[], copy: boolean): [string, Float32Array][] {
  return modules.flatMap((module, i) => namedTensors(module, `${indices[i]}.`, copy));
}

/**
 * A layer's parameters then buffers, named with `prefix`; copies where asked (buffers as parameters
 * unless said), else the live arrays, as held (empty while given away to stages).
 */
export function namedTensors(layer: Layer, prefix: string, copy: boolean, copyBuffers = copy): [string, Float32Array][] {
  return [
    ...layer.namedParameters(prefix).map(([n, t]): [string, Float32Array] => [n, copy ? t.data.slice() : t.held]),
    ...layer.namedBuffers(prefix).map(([n, b]): [string, Float32Array] => [n, copyBuffers ? b.slice() : b]),
  ];
}

/**
 * Copies `source` into `targets` (live arrays); every name must match and every size agree, all
 * checked before anything is written. A name in `adopt` (parameters by name) takes the source
 * array itself as its tensor's elements.
 */
export function loadNamedTensors(targets: [string, Float32Array][], source: [string, Float32Array][], owner: string, adopt?: Map<string, Tensor>): void {
  const byName = new Map(targets);
  // the source came from another thread or process: its form is checked before anything is read
  if (!Array.isArray(source)) throw new StageConfigError(`${owner}: state is not a list of named tensors`);
  if (byName.size !== source.length) throw new StageConfigError(`${owner}: state has ${source.length} tensors, expected ${byName.size}`);
  const bad = source.findIndex((e: unknown) => !Array.isArray(e) || typeof e[0] !== 'string' || !(e[1] instanceof Float32Array));
  if (bad >= 0) throw new StageConfigError(`${owner}: state entry ${bad} is not a name with a Float32Array`);
  if (new Set(source.map(([name]) => name)).size !== source.length) throw new StageConfigError(`${owner}: state names a tensor twice`);
  for (const [name, data] of source) {
    const target = byName.get(name);
    if (!target) throw new StageConfigError(`${owner}: state has an unknown tensor '${name}'`);
    const parameter = adopt?.get(name);
    const expected = parameter ? parameter.size : target.length;
    if (expected !== data.length) throw new StageConfigError(`${owner}: tensor '${name}' has ${data.length} elements, expected ${expected}`);
  }
  for (const [name, data] of source) {
    const parameter = adopt?.get(name);
    if (parameter) parameter.adopt(data);
    else byName.get(name)!.set(data);
  }
}
