// Command-line option parsing shared by the commands: strict, with one clear line per mistake.
import { parseArgs } from 'node:util';
import { LuxError } from '../errors.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Parses `argv` against `spec`; unknown options and stray positionals are usage errors naming the command. */
export function parseOptions<T extends OptionSpec>(command: string, argv: string[], spec: T) {
  try {
    const { values } = parseArgs({ args: argv, options: { ...spec, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    return values as { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean };
  } catch (err) {
    throw new LuxError('E_USAGE', `${command}: ${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}`);
  }
}

/** A required option, or a usage error naming it. */
export function required(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new LuxError('E_USAGE', `${command}: missing required option --${name}`);
  return value;
}

/** A positive integer option, or a usage error naming it and the value. */
export function positiveInt(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new LuxError('E_USAGE', `${command}: --${name} expects a positive integer, got '${value}'`);
  return n;
}

/** A non-negative number option (fractions allowed). */
export function nonNegative(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new LuxError('E_USAGE', `${command}: --${name} expects a non-negative number, got '${value}'`);
  return n;
}
