import { describe, expect, it, vi } from 'vitest'

import { dispatch } from '../../../src/main/services/dispatch'
import type { Handlers } from '../../../src/main/services/services'

/** Handlers where only the named ones exist; the rest throw if called. */
function fakeHandlers(overrides: Partial<Handlers>): Handlers {
  return new Proxy(overrides as Handlers, {
    get: (target, name: string) =>
      (target as Record<string, unknown>)[name] ??
      (async () => {
        throw new Error(`unexpected call to ${name}`)
      }),
  })
}

const ctx = { transport: 'http' } as const

describe('dispatch', () => {
  it('rejects unknown routes without calling anything', async () => {
    const handlers = fakeHandlers({})
    for (const name of ['nope', 'toString', '__proto__', 42, null, undefined]) {
      const result = await dispatch({ handlers }, name, {}, ctx)
      expect(result).toMatchObject({ ok: false, error: { name: 'UnknownRoute' } })
    }
  })

  it('rejects invalid input with the field and the problem, before the handler runs', async () => {
    const samples = vi.fn()
    const handlers = fakeHandlers({ 'dataset.samples': samples })
    const result = await dispatch(
      { handlers },
      'dataset.samples',
      { datasetId: 'x', count: 9999 },
      ctx,
    )
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.name).toBe('ValidationError')
    expect(result.error.message).toMatch(/^invalid input for dataset.samples: count: /)
    expect(samples).not.toHaveBeenCalled()
    const wrongType = await dispatch({ handlers }, 'runs.get', 'not an object', ctx)
    expect(wrongType).toMatchObject({ ok: false, error: { name: 'ValidationError' } })
  })

  it('refuses a custom preset without an architecture, naming the field', async () => {
    const start = vi.fn()
    const handlers = fakeHandlers({ 'training.start': start })
    const result = await dispatch(
      { handlers },
      'training.start',
      { datasetId: 'd', config: { preset: 'custom' } },
      ctx,
    )
    expect(result).toMatchObject({
      ok: false,
      error: {
        name: 'ValidationError',
        issues: [{ path: 'config.architecture', message: 'preset "custom" needs an architecture' }],
      },
    })
    expect(start).not.toHaveBeenCalled()
  })

  it('bounds the length of every string a route takes', async () => {
    const handlers = fakeHandlers({})
    const long = 'x'.repeat(5000)
    for (const [name, input] of [
      ['training.start', { datasetId: long, config: { preset: 'fast' } }],
      ['dataset.samples', { datasetId: long }],
      ['dataset.delete', { datasetId: long }],
      ['shell.reveal', { path: `/${long}` }],
      ['dialog.open', { kind: 'files', filters: [{ name: long, extensions: ['png'] }] }],
    ] as const) {
      const result = await dispatch({ handlers }, name, input, ctx)
      expect(result, name).toMatchObject({ ok: false, error: { name: 'ValidationError' } })
    }
  })

  it('passes parsed input (defaults applied) and the context to the handler', async () => {
    const samples = vi.fn(async () => [])
    await dispatch(
      { handlers: fakeHandlers({ 'dataset.samples': samples }) },
      'dataset.samples',
      { datasetId: 'd' },
      ctx,
    )
    expect(samples).toHaveBeenCalledWith(
      { datasetId: 'd', split: 'train', offset: 0, count: 32 },
      ctx,
    )
  })

  it('turns thrown errors into { name, message, file } without a stack', async () => {
    const error = Object.assign(new Error('a.png: not an image'), {
      name: 'DatasetError',
      file: '/x/a.png',
    })
    const handlers = fakeHandlers({
      'dataset.importFolder': async () => {
        throw error
      },
    })
    const result = await dispatch({ handlers }, 'dataset.importFolder', { path: '/x' }, ctx)
    expect(result).toEqual({
      ok: false,
      error: { name: 'DatasetError', message: 'a.png: not an image', file: '/x/a.png' },
    })
    expect(JSON.stringify(result)).not.toMatch(/at .*\.ts/)
  })

  it('refuses answers outside the contract', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const handlers = fakeHandlers({
      'runs.delete': async () => ({ ok: 'yes' }) as unknown as { ok: boolean },
    })
    const result = await dispatch({ handlers }, 'runs.delete', { runId: 'r' }, ctx)
    expect(result).toMatchObject({ ok: false, error: { name: 'InternalError' } })
    spy.mockRestore()
  })

  it('returns the validated result', async () => {
    const handlers = fakeHandlers({ 'runs.delete': async () => ({ ok: true }) })
    expect(await dispatch({ handlers }, 'runs.delete', { runId: 'r' }, ctx)).toEqual({
      ok: true,
      result: { ok: true },
    })
  })
})
