import { describe, expect, it, vi } from 'vitest'

import { findPreloadApi } from '@renderer/bridge/preloadApi'
import { takeTokenFromUrl } from '@renderer/bridge/token'

describe('takeTokenFromUrl', () => {
  it('reads the token and removes it from the visible URL', () => {
    const replaceState = vi.fn()
    const token = takeTokenFromUrl({
      location: { hash: '#token=abc123', pathname: '/', search: '?x=1' },
      history: { replaceState, state: null },
    })
    expect(token).toBe('abc123')
    expect(replaceState).toHaveBeenCalledWith(null, '', '/?x=1')
  })

  it('returns an empty token and leaves the URL alone when there is none', () => {
    const replaceState = vi.fn()
    expect(
      takeTokenFromUrl({
        location: { hash: '', pathname: '/', search: '' },
        history: { replaceState, state: null },
      }),
    ).toBe('')
    expect(replaceState).not.toHaveBeenCalled()
  })
})

describe('findPreloadApi', () => {
  it('uses window.inklab only when it looks like a bridge', () => {
    const api = { invoke: vi.fn(), on: vi.fn(), getPathForFile: vi.fn() }
    expect(findPreloadApi({ inklab: api })).toBe(api)
    expect(findPreloadApi({ inklab: { invoke: 1 } })).toBeNull()
    expect(findPreloadApi({})).toBeNull()
  })
})
