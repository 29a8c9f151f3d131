// Errors as every layer reports them and as they cross process and network boundaries. One
// definition of each: the engine host, the services, both bridges and the CLI use these.

/** One problem of a validated input, by field path (`config.epochs`, `layers.2.filters`). */
export interface FieldIssue {
  path: string
  message: string
}

/**
 * An error as it crosses a process or network boundary (VS Code's shape): its name and message,
 * the stack for logs, and the structured parts a caller may act on.
 */
export interface SerializedError {
  name: string
  message: string
  /** Where it was thrown (for logs; never shown to users, never sent to a renderer). */
  stack?: string
  /** Set when the error concerns one file (dataset import, model load). */
  file?: string
  /** The system's error code (`ENOSPC`, `EROFS`...) when the error came from the file system. */
  code?: string
  /** The problems of a validation error, field by field. */
  issues?: FieldIssue[]
}

/** The message of anything thrown (an Error's message, a string, or its text form). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name
  return typeof error === 'string' ? error : String(error)
}

/** The message to show a person: `errorMessage`, naming the file when the message does not. */
export function describeForUser(error: unknown): string {
  if (!(error instanceof Error) && typeof error !== 'string') return 'Something went wrong'
  const message = errorMessage(error)
  const file = (error as { file?: unknown }).file
  return typeof file === 'string' && file && !message.includes(file)
    ? `${message} (${file})`
    : message
}

/** Zod issues (or anything shaped like them) as field issues: the path joined with dots. */
export function fieldIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): FieldIssue[] {
  return issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }))
}

/** "field.path: problem; other: problem" for at most `max` issues. */
export function describeIssues(
  issues: readonly { path: readonly PropertyKey[] | string; message: string }[],
  max = 10,
): string {
  return issues
    .slice(0, max)
    .map((issue) => {
      const path = typeof issue.path === 'string' ? issue.path : issue.path.map(String).join('.')
      return (path ? `${path}: ` : '') + issue.message
    })
    .join('; ')
}

/** Options of `serializeError`. */
export interface SerializeOptions {
  /** Keep the stack (true across the engine host boundary, false toward a renderer). */
  stack?: boolean
}

/** Turns anything thrown into the `SerializedError` that crosses a boundary. */
export function serializeError(error: unknown, options: SerializeOptions = {}): SerializedError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: typeof error === 'string' ? error : String(error) }
  }
  const { file, code, issues } = error as { file?: unknown; code?: unknown; issues?: unknown }
  return {
    name: error.name || 'Error',
    message: error.message || String(error),
    ...(options.stack && error.stack ? { stack: error.stack } : {}),
    ...(typeof file === 'string' ? { file } : {}),
    ...(typeof code === 'string' ? { code } : {}),
    ...(Array.isArray(issues) && issues.every(isFieldIssue) ? { issues } : {}),
  }
}

function isFieldIssue(value: unknown): value is FieldIssue {
  const issue = value as FieldIssue | null
  return typeof issue?.path === 'string' && typeof issue.message === 'string'
}

/** An error rebuilt on this side of a boundary, with its original name, fields and stack. */
export class RemoteError extends Error {
  readonly file?: string
  readonly code?: string
  readonly issues?: FieldIssue[]

  constructor(error: SerializedError) {
    super(error.message)
    this.name = error.name || 'Error'
    if (error.stack) this.stack = error.stack
    if (error.file !== undefined) this.file = error.file
    if (error.code !== undefined) this.code = error.code
    if (error.issues !== undefined) this.issues = error.issues
  }
}

/** True when `value` has the shape of a `SerializedError`. */
export function isSerializedError(value: unknown): value is SerializedError {
  const error = value as SerializedError | null
  return typeof error?.name === 'string' && typeof error.message === 'string'
}
