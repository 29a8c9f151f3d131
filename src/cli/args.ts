import { parseArgs, type ParseArgsConfig } from 'node:util'

import { UsageError } from './errors'

type Options = NonNullable<ParseArgsConfig['options']>
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>
>

/** Parses `argv` against `options`; unknown flags and missing values become a UsageError. */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true })
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw new UsageError(`${command}: ${message.replace(/\. To specify a positional.*$/, '')}`)
  }
}

/** Reads an integer flag, checking its range. */
export function intOption(
  name: string,
  value: string | undefined,
  { min, max }: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--${name} must be a whole number, got "${value}"`)
  }
  if (n < min || n > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`)
  return n
}

/** Reads a number flag, checking its range. */
export function numberOption(
  name: string,
  value: string | undefined,
  { min, max }: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new UsageError(`--${name} must be a number, got "${value}"`)
  }
  if (n < min || n > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`)
  return n
}

/** Reads a flag restricted to a set of words. */
export function choiceOption<T extends string>(
  name: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got "${value}"`)
  }
  return value as T
}

/** A required flag. */
export function required<T>(name: string, value: T | undefined): T {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`)
  return value
}
