import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import {
  isNativePackageInstalled,
  LEGACY_UTIL_PREDICATES,
  loadNativeBinding,
  NATIVE_NOT_INSTALLED_REASON,
  shimLegacyUtil,
  tryLoadNative,
  type RequireLike,
} from '@engine/backend/nativeLoader'

/** A fake `require` where tfjs-node resolves and `load` decides what requiring it does. */
function fakeRequire(fakeUtil: Record<string, unknown>, load: () => unknown): RequireLike {
  const req = ((id: string) => {
    if (id === 'node:util') return fakeUtil
    if (id === '@tensorflow/tfjs-node') return load()
    throw new Error(`unexpected require ${id}`)
  }) as RequireLike
  req.resolve = (id: string) => `/fake/node_modules/${id}`
  return req
}

describe('shimLegacyUtil', () => {
  it('adds the missing util predicates with their legacy semantics', () => {
    const fakeUtil: Record<string, unknown> = { promisify: () => undefined }
    const added = shimLegacyUtil(fakeUtil)
    expect(added).toContain('isNullOrUndefined')
    expect(added).toContain('isArray')
    expect(added).not.toContain('promisify')

    const isNullOrUndefined = fakeUtil.isNullOrUndefined as (v: unknown) => boolean
    expect(isNullOrUndefined(null)).toBe(true)
    expect(isNullOrUndefined(undefined)).toBe(true)
    expect(isNullOrUndefined(0)).toBe(false)
    expect(isNullOrUndefined('')).toBe(false)
    expect(isNullOrUndefined(false)).toBe(false)

    const isArray = fakeUtil.isArray as (v: unknown) => boolean
    expect(isArray([])).toBe(true)
    expect(isArray(new Float32Array(2))).toBe(false)
    expect(isArray({ length: 0 })).toBe(false)

    const is = (name: string, value: unknown): boolean =>
      (fakeUtil[name] as (v: unknown) => boolean)(value)
    expect(is('isObject', {})).toBe(true)
    expect(is('isObject', null)).toBe(false)
    expect(is('isPrimitive', 'a')).toBe(true)
    expect(is('isPrimitive', () => 1)).toBe(false)
    expect(is('isError', new TypeError('x'))).toBe(true)
    expect(is('isRegExp', /a/)).toBe(true)
    expect(is('isDate', new Date())).toBe(true)
    expect(is('isBuffer', Buffer.alloc(1))).toBe(true)
  })

  it('never overwrites a function that is already there', () => {
    const existing = (): boolean => true
    const fakeUtil: Record<string, unknown> = { isNullOrUndefined: existing }
    const added = shimLegacyUtil(fakeUtil)
    expect(fakeUtil.isNullOrUndefined).toBe(existing)
    expect(added).not.toContain('isNullOrUndefined')
    expect(added).toHaveLength(Object.keys(LEGACY_UTIL_PREDICATES).length - 1)
    expect(shimLegacyUtil(fakeUtil)).toEqual([])
  })
})

describe('tryLoadNative', () => {
  // First in the file: the real tfjs-node, once loaded, would register the backend this checks for.
  it('notices a tfjs-node that registered its backend on another tfjs copy', () => {
    expect(tf.findBackendFactory('tensorflow')).toBeFalsy()
    const result = tryLoadNative(fakeRequire({}, () => ({})))
    expect(result.ok).toBe(false)
    expect(!result.ok && result.reason).toMatch(/another copy of @tensorflow\/tfjs-core/)
  })

  it('says tfjs-node is not installed when it does not resolve, without requiring it', () => {
    const req = fakeRequire({}, () => {
      throw new Error('must not be required')
    })
    req.resolve = (id: string) => {
      throw new Error(`Cannot find module '${id}'`)
    }
    expect(tryLoadNative(req)).toEqual({ ok: false, reason: NATIVE_NOT_INSTALLED_REASON })
    expect(NATIVE_NOT_INSTALLED_REASON).toMatch(
      /@tensorflow\/tfjs-node.*not installed.*npm run native/,
    )
  })

  it('shims util before requiring tfjs-node and reports the real load error', () => {
    const fakeUtil: Record<string, unknown> = {}
    let utilShimmedFirst = false
    const req = fakeRequire(fakeUtil, () => {
      utilShimmedFirst = typeof fakeUtil.isNullOrUndefined === 'function'
      throw new Error(
        'libtensorflow.so.2: cannot open shared object file: No such file or directory\nRequire stack: ...',
      )
    })
    expect(tryLoadNative(req)).toEqual({
      ok: false,
      reason:
        '@tensorflow/tfjs-node failed to load: libtensorflow.so.2: cannot open shared object file: No such file or directory',
    })
    expect(utilShimmedFirst).toBe(true)
  })
})

describe('loadNativeBinding', () => {
  it('loads tfjs-node where it is installed, says it is not otherwise, and remembers the outcome', () => {
    const result = loadNativeBinding()
    if (isNativePackageInstalled()) {
      expect(result).toEqual({ ok: true })
      expect(tf.findBackendFactory('tensorflow')).toBeTypeOf('function')
    } else {
      expect(result).toEqual({ ok: false, reason: NATIVE_NOT_INSTALLED_REASON })
    }
    expect(loadNativeBinding()).toBe(result)
  })
})
