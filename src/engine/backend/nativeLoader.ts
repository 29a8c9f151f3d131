import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { types } from 'node:util'
import * as tf from '@tensorflow/tfjs'

/** npm package that provides the native (libtensorflow) backend. */
export const NATIVE_PACKAGE = '@tensorflow/tfjs-node'

/** tfjs backend id that the native package registers. */
export const NATIVE_TFJS_BACKEND = 'tensorflow'

/** Reason given when the native package is absent, its usual state on machines without internet. */
export const NATIVE_NOT_INSTALLED_REASON = `the ${NATIVE_PACKAGE} package is not installed (its install step needs internet access to download libtensorflow; "npm run native" sets it up from PyPI instead)`

/** Outcome of trying to load the native backend. */
export type NativeLoadResult = { ok: true } | { ok: false; reason: string }

/**
 * The legacy `util.is*` predicates, with their documented Node semantics. Node 23 removed them, but
 * tfjs-node 4.22 still calls `util.isNullOrUndefined` and `util.isArray` (nodejs_kernel_backend)
 * when it builds op attributes; the rest are covered in case a dependency of it uses them.
 */
export const LEGACY_UTIL_PREDICATES: Readonly<Record<string, (value: unknown) => boolean>> = {
  isArray: (value) => Array.isArray(value),
  isBoolean: (value) => typeof value === 'boolean',
  isBuffer: (value) => Buffer.isBuffer(value),
  isDate: (value) => types.isDate(value),
  isError: (value) => types.isNativeError(value) || value instanceof Error,
  isFunction: (value) => typeof value === 'function',
  isNull: (value) => value === null,
  isNullOrUndefined: (value) => value === null || value === undefined,
  isNumber: (value) => typeof value === 'number',
  isObject: (value) => value !== null && typeof value === 'object',
  isPrimitive: (value) =>
    value === null || (typeof value !== 'object' && typeof value !== 'function'),
  isRegExp: (value) => types.isRegExp(value),
  isString: (value) => typeof value === 'string',
  isSymbol: (value) => typeof value === 'symbol',
  isUndefined: (value) => value === undefined,
}

/**
 * Adds to `target` (normally Node's `util` module object) each legacy predicate it lacks; existing
 * properties are never overwritten. Returns the names it added.
 */
export function shimLegacyUtil(target: Record<string, unknown>): string[] {
  const added: string[] = []
  for (const [name, predicate] of Object.entries(LEGACY_UTIL_PREDICATES)) {
    if (name in target) continue
    target[name] = predicate
    added.push(name)
  }
  return added
}

/** The part of Node's `require` the loader uses; tests pass a fake one. */
export interface RequireLike {
  (id: string): unknown
  resolve(id: string): string
}

function defaultRequire(): RequireLike {
  return createRequire(import.meta.url)
}

let cached: NativeLoadResult | undefined

/** Whether the native package can be resolved at all, without loading it. */
export function isNativePackageInstalled(require: RequireLike = defaultRequire()): boolean {
  try {
    require.resolve(`${NATIVE_PACKAGE}/package.json`)
    return true
  } catch {
    return false
  }
}

/** tfjs-node's installed folder, or undefined when the package is not installed. */
export function nativePackageDir(require: RequireLike = defaultRequire()): string | undefined {
  try {
    return dirname(require.resolve(`${NATIVE_PACKAGE}/package.json`))
  } catch {
    return undefined
  }
}

/** The result of an earlier `loadNativeBinding()` call, if any (loading is attempted only once). */
export function nativeLoadAttempt(): NativeLoadResult | undefined {
  return cached
}

/**
 * Loads `@tensorflow/tfjs-node` (lazily, with `createRequire`) after shimming the `util` functions
 * it needs on Node 23+. On success its `tensorflow` backend is registered on this process's tfjs
 * and, as tfjs-node does on load, made the active backend. Never throws: failures come back with a
 * reason fit to show the user. The outcome is cached, since a failed native load cannot be retried
 * in the same process.
 */
export function loadNativeBinding(): NativeLoadResult {
  cached ??= tryLoadNative()
  return cached
}

/** One uncached load attempt through `require`; `loadNativeBinding` is what callers want. */
export function tryLoadNative(require: RequireLike = defaultRequire()): NativeLoadResult {
  if (!isNativePackageInstalled(require)) return { ok: false, reason: NATIVE_NOT_INSTALLED_REASON }
  shimLegacyUtil(require('node:util') as Record<string, unknown>)
  // libtensorflow logs INFO lines (CPU features, each graph it loads) to stderr unless told not
  // to; warnings and errors still show. A value the user set wins.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1'
  try {
    require(NATIVE_PACKAGE)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return { ok: false, reason: `${NATIVE_PACKAGE} failed to load: ${firstLine(message)}` }
  }
  if (tf.findBackendFactory(NATIVE_TFJS_BACKEND) == null) {
    return {
      ok: false,
      reason: `${NATIVE_PACKAGE} loaded but registered its backend on another copy of @tensorflow/tfjs-core (version mismatch with @tensorflow/tfjs ${tf.version_core})`,
    }
  }
  return { ok: true }
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0].trim()
  return line.length > 0 ? line : 'unknown error'
}
