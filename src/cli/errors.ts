/** A mistake in how the command was called: printed with a hint to run --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Exit codes of the `inklab` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, cancelled: 130 } as const

/** One line for the terminal: the message of an error, never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] || error.name
  return String(error)
}
