import { isRouteName, ROUTES } from '@shared/contract'
import type { CallResult } from '@shared/contract/client'
import { describeIssues, fieldIssues, serializeError } from '@shared/errors'
import { toFileSystemError } from '@shared/node/files'

import type { Handlers, RequestContext, RouteHandler } from './services'

/** What `dispatch` calls: the handlers, once `ready` (the data folder) has resolved. */
export interface DispatchTarget {
  handlers: Handlers
  ready?: Promise<void>
}

/** What a transport sends back for one call: never a thrown error, never a stack trace. */
export type DispatchResult = CallResult

/** Errors whose message is written for users; anything else is also logged with its stack. */
const EXPECTED_ERRORS = new Set([
  'UserError',
  'NotFoundError',
  'DatasetError',
  'ModelFileError',
  'ArchitectureError',
  'EngineStopped',
  'ValidationError',
  'FileSystemError',
  // A call its caller abandoned: nobody is waiting for the answer.
  'AbortError',
])

/**
 * The one entry point of both transports: checks that `name` is a declared route, validates `input`
 * with its schema, waits for the services to be ready, runs the handler, and validates the answer
 * against the output schema. Any failure comes back as `{ ok: false, error }` (name, message, and
 * the file, code or field issues when there are; never a stack).
 */
export async function dispatch(
  target: DispatchTarget,
  name: unknown,
  input: unknown,
  ctx: RequestContext,
): Promise<DispatchResult> {
  if (!isRouteName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 100)) : typeof name
    return { ok: false, error: { name: 'UnknownRoute', message: `unknown route ${shown}` } }
  }
  const route = ROUTES[name]
  const parsed = route.input.safeParse(input ?? {})
  if (!parsed.success) {
    const issues = fieldIssues(parsed.error.issues)
    return {
      ok: false,
      error: {
        name: 'ValidationError',
        message: `invalid input for ${name}: ${describeIssues(issues)}`,
        issues,
      },
    }
  }
  let result: unknown
  try {
    await target.ready
    const handler = target.handlers[name] as RouteHandler<typeof name>
    result = await handler(parsed.data as never, ctx)
  } catch (thrown) {
    // A system error from the file system becomes a sentence naming the path and the problem.
    const error = toFileSystemError(thrown)
    const serialized = serializeError(error)
    if (!EXPECTED_ERRORS.has(serialized.name)) console.error(`InkLab: ${name} failed:`, error)
    return { ok: false, error: serialized }
  }
  const checked = route.output.safeParse(result)
  if (!checked.success) {
    console.error(`InkLab: ${name} produced an answer outside the contract:`, checked.error.issues)
    return {
      ok: false,
      error: {
        name: 'InternalError',
        message: `${name} produced an invalid answer: ${describeIssues(checked.error.issues)}`,
      },
    }
  }
  return { ok: true, result: checked.data }
}
