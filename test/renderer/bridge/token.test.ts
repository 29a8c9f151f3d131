import { describe, expect, it, vi } from 'vitest'

import { findPreloadApi } from '@renderer/bridge/preloadApi'
import { signInOnPastedLink, takeTokenFromUrl } from '@renderer/bridge/token'

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

describe('signInOnPastedLink', () => {
  it('opens a session with a token pasted into an open tab, then reloads the page', async () => {
    let onHashChange: () => void = () => undefined
    const location = { hash: '', pathname: '/', search: '', reload: vi.fn() }
    const replaceState = vi.fn()
    const openSession = vi.fn(async () => true)
    signInOnPastedLink(openSession, {
      location,
      history: { replaceState, state: null },
      addEventListener: (_type, listener) => (onHashChange = listener),
    })
    location.hash = '#section'
    onHashChange()
    expect(openSession).not.toHaveBeenCalled()
    location.hash = '#token=fresh'
    onHashChange()
    expect(openSession).toHaveBeenCalledWith('fresh')
    expect(replaceState, 'the token leaves the address bar').toHaveBeenCalledWith(null, '', '/')
    await Promise.resolve()
    await Promise.resolve()
    expect(location.reload).toHaveBeenCalledTimes(1)
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
