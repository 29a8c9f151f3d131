// The caller's side of the contract, shared by both bridges (the Electron preload and the
// serve-mode HTTP client): validate the input, send it, check and rebuild the answer, validate the
// output; validate each event before its listeners see it. Each bridge only supplies its transport.
import {
  describeIssues,
  fieldIssues,
  isSerializedError,
  RemoteError,
  type FieldIssue,
  type SerializedError,
} from '../errors'
import { EVENTS, isEventName, isRouteName, ROUTES } from './index'
import type { Bridge, EventName, EventPayload, RouteInput, RouteName, RouteOutput } from './index'

/** What the services answer for one call, over any transport: never a thrown error. */
export type CallResult = { ok: true; result: unknown } | { ok: false; error: SerializedError }

/** True when `value` has the shape of a `CallResult`. */
export function isCallResult(value: unknown): value is CallResult {
  if (typeof value !== 'object' || value === null) return false
  const body = value as { ok?: unknown; error?: unknown }
  if (body.ok === true) return 'result' in body
  return body.ok === false && isSerializedError(body.error)
}

/** An input that does not match its schema, with its problems field by field. */
export class ValidationError extends Error {
  readonly issues: FieldIssue[]

  constructor(message: string, issues: FieldIssue[]) {
    super(message)
    this.name = 'ValidationError'
    this.issues = issues
  }
}

/** Sends one validated call and resolves with what the other side answered (a `CallResult`). */
export type Send = (name: RouteName, input: unknown) => Promise<unknown>

/**
 * `invoke` over `send`: the input is checked against the route's schema before anything is sent,
 * an `{ ok: false }` answer is rethrown as the error the services sent (name, file, issues kept),
 * and the result is checked against the output schema.
 */
export function createInvoke(send: Send): Bridge['invoke'] {
  return async function invoke<N extends RouteName>(
    name: N,
    input: RouteInput<N>,
  ): Promise<RouteOutput<N>> {
    if (!isRouteName(name)) throw new Error(`Unknown route: ${String(name)}`)
    const route = ROUTES[name]
    const parsedInput = route.input.safeParse(input ?? {})
    if (!parsedInput.success) {
      const issues = fieldIssues(parsedInput.error.issues)
      throw new ValidationError(`Invalid input for ${name}: ${describeIssues(issues)}`, issues)
    }
    const answer = await send(name, parsedInput.data)
    if (!isCallResult(answer)) throw new Error(`Unexpected answer to ${name}`)
    if (!answer.ok) throw new RemoteError(answer.error)
    const parsedOutput = route.output.safeParse(answer.result)
    if (!parsedOutput.success) {
      throw new Error(`Invalid answer from ${name}: ${describeIssues(parsedOutput.error.issues)}`)
    }
    return parsedOutput.data as RouteOutput<N>
  }
}

/** Listeners of contract events, each event's payload validated once before they see it. */
export interface EventListeners {
  /** Adds a listener; throws for undeclared events. Returns the function that removes it. */
  add<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void
  /** Delivers one `{ name, payload }` message as it arrived; anything malformed is dropped. */
  deliver(message: unknown): void
  /** How many listeners there are (a bridge opens its channel at 1 and closes it at 0). */
  readonly size: number
}

/** Creates an empty set of event listeners; `onDropped` hears about malformed payloads. */
export function createEventListeners(
  onDropped?: (name: EventName, problem: string) => void,
): EventListeners {
  const listeners = new Map<EventName, Set<(payload: never) => void>>()
  let size = 0
  return {
    add(name, listener) {
      if (!isEventName(name)) throw new Error(`Unknown event: ${String(name)}`)
      if (typeof listener !== 'function') throw new TypeError('listener must be a function')
      let set = listeners.get(name)
      if (!set) listeners.set(name, (set = new Set()))
      const entry = listener as (payload: never) => void
      if (!set.has(entry)) size++
      set.add(entry)
      return () => {
        if (set.delete(entry)) size--
      }
    },
    deliver(message) {
      const { name, payload } = (
        typeof message === 'object' && message !== null ? message : {}
      ) as { name?: unknown; payload?: unknown }
      if (!isEventName(name)) return
      const subscribers = listeners.get(name)
      if (!subscribers?.size) return
      const parsed = EVENTS[name].payload.safeParse(payload)
      if (!parsed.success) {
        onDropped?.(name, describeIssues(parsed.error.issues))
        return
      }
      for (const listener of [...subscribers]) listener(parsed.data as never)
    },
    get size() {
      return size
    },
  }
}
