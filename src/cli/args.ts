// Flag parsing on node:util's parseArgs (strict: an unknown flag is an error), plus typed value
// checks whose messages name the flag, as docs/cli.md promises.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseFlags(argv: string[], options: FlagSpec, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    // parseArgs says e.g. "Unknown option '--epoch'"; keep its words, they name the flag.
    throw new UsageError((error as Error).message);
  }
}

export function str(values: Parsed['values'], flag: string): string | undefined {
  const v = values[flag];
  return typeof v === 'string' ? v : undefined;
}

export function choice<T extends string>(values: Parsed['values'], flag: string, allowed: readonly T[], fallback: T): T {
  const v = str(values, flag);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${flag}: expected one of ${allowed.join(', ')}, got '${v}'`);
  }
  return v as T;
}

export function int(values: Parsed['values'], flag: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const v = str(values, flag);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag}: expected an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, got '${v}'`);
  }
  return n;
}

export function optionalInt(values: Parsed['values'], flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return str(values, flag) === undefined ? undefined : int(values, flag, 0, min, max);
}

export function num(values: Parsed['values'], flag: string, fallback: number, min = 0, minInclusive = false): number {
  const v = str(values, flag);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (minInclusive ? n < min : n <= min)) {
    throw new UsageError(`--${flag}: expected a number ${minInclusive ? '>=' : '>'} ${min}, got '${v}'`);
  }
  return n;
}
