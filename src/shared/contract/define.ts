import { z } from 'zod'

/** A request/response route: one dotted name, a zod input and a zod output. */
export interface RouteDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly name: string
  readonly input: I
  readonly output: O
}

/** A main-to-renderer event: one dotted name and a zod payload. */
export interface EventDef<P extends z.ZodType = z.ZodType> {
  readonly name: string
  readonly payload: P
}

/** Declares a route; `name` must match its key in the routes table. */
export function defineRoute<I extends z.ZodType, O extends z.ZodType>(
  name: string,
  input: I,
  output: O,
): RouteDef<I, O> {
  return Object.freeze({ name, input, output })
}

/** Declares an event. */
export function defineEvent<P extends z.ZodType>(name: string, payload: P): EventDef<P> {
  return Object.freeze({ name, payload })
}

/** The id of a run or a dataset (it names a folder). */
export const IdSchema = z.string().min(1).max(200)

/** A file or folder path as a route carries it. */
export const PathSchema = z.string().min(1).max(4096)

/** A user-given name (of a run or a dataset). */
export const NameSchema = z.string().max(100)
