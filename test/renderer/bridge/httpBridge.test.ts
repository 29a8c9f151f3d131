import { describe, expect, it, vi } from 'vitest'

import { createHttpBridge, type EventSourceLike } from '@renderer/bridge/httpBridge'
import { RemoteError } from '@shared/errors'
import { TEST_APP_INFO } from '../helpers/fakeBridge'

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = []
  onmessage: ((event: MessageEvent<string>) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  onopen: ((event: Event) => void) | null = null
  closed = false
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this)
  }
  close(): void {
    this.closed = true
  }
  send(data: unknown): void {
    this.onmessage?.({ data: JSON.stringify(data) } as MessageEvent<string>)
  }
}

describe('createHttpBridge', () => {
  it('posts the route with the bearer token and returns the validated result', async () => {
    const fetch = vi.fn(async () => jsonResponse({ ok: true, result: TEST_APP_INFO }))
    const bridge = createHttpBridge({ token: 's3cret', fetch })
    const info = await bridge.invoke('app.info', {})
    expect(info.version).toBe('0.1.0')
    expect(fetch).toHaveBeenCalledTimes(1)
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/invoke')
    expect(init.method).toBe('POST')
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer s3cret')
    expect(JSON.parse(init.body as string)).toEqual({ name: 'app.info', input: {} })
  })

  it('turns ok:false into a thrown Error with the server message and file', async () => {
    const fetch = vi.fn(async () =>
      jsonResponse(
        {
          ok: false,
          error: { name: 'DatasetError', message: 'bad IDX magic 0x0000', file: 'train-images' },
        },
        400,
      ),
    )
    const bridge = createHttpBridge({ token: 't', fetch })
    const error = await bridge.invoke('dataset.openIdx', { path: '/x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as Error).message).toBe('bad IDX magic 0x0000')
    expect((error as RemoteError).file).toBe('train-images')
  })

  it('rejects invalid input before anything is sent', async () => {
    const fetch = vi.fn()
    const bridge = createHttpBridge({ token: 't', fetch })
    await expect(bridge.invoke('dataset.openIdx', { path: '' })).rejects.toThrow(
      /Invalid input for dataset.openIdx/,
    )
    await expect(
      // @ts-expect-error: an unknown route is refused too
      bridge.invoke('fs.readEverything', {}),
    ).rejects.toThrow(/Unknown route/)
    expect(fetch).not.toHaveBeenCalled()
  })

  it('rejects a result that does not match the contract', async () => {
    const fetch = vi.fn(async () => jsonResponse({ ok: true, result: { nope: 1 } }))
    const bridge = createHttpBridge({ token: 't', fetch })
    await expect(bridge.invoke('app.info', {})).rejects.toThrow(/Invalid answer from app.info/)
  })

  it('reports a non-JSON answer with its HTTP status', async () => {
    const fetch = vi.fn(
      async () => new Response('nope', { status: 502, statusText: 'Bad Gateway' }),
    )
    const bridge = createHttpBridge({ token: 't', fetch })
    await expect(bridge.invoke('app.info', {})).rejects.toThrow(/502/)
  })

  it('delivers validated events from one EventSource carrying the token', () => {
    FakeEventSource.instances = []
    const bridge = createHttpBridge({
      token: 'a b',
      fetch: vi.fn(),
      createEventSource: (url) => new FakeEventSource(url),
    })
    const progress = vi.fn()
    const state = vi.fn()
    const offProgress = bridge.on('dataset.progress', progress)
    const offState = bridge.on('training.state', state)
    expect(FakeEventSource.instances).toHaveLength(1)
    const source = FakeEventSource.instances[0]!
    expect(source.url).toBe('/api/events?token=a%20b')

    source.send({ name: 'dataset.progress', payload: { phase: 'decoding', done: 1, total: 2 } })
    source.send({ name: 'dataset.progress', payload: { phase: 'bogus' } })
    source.send({ name: 'training.state', payload: { runId: 'r', state: 'running' } })
    expect(progress).toHaveBeenCalledTimes(1)
    expect(progress).toHaveBeenCalledWith({ phase: 'decoding', done: 1, total: 2 })
    expect(state).toHaveBeenCalledWith({ runId: 'r', state: 'running' })

    offProgress()
    expect(source.closed).toBe(false)
    offState()
    expect(source.closed).toBe(true)
  })
})

describe('createHttpBridge reconnection', () => {
  it('tells onReconnect subscribers when the event stream comes back after an error', () => {
    FakeEventSource.instances = []
    const bridge = createHttpBridge({
      token: 't',
      fetch: vi.fn(),
      createEventSource: (url) => new FakeEventSource(url),
    })
    const reconnected = vi.fn()
    const off = bridge.onReconnect(reconnected)
    bridge.on('training.state', vi.fn())
    const source = FakeEventSource.instances[0]!
    source.onopen?.(new Event('open'))
    expect(reconnected).not.toHaveBeenCalled()
    source.onerror?.(new Event('error'))
    source.onopen?.(new Event('open'))
    expect(reconnected).toHaveBeenCalledTimes(1)
    // A second open without an error in between is not a reconnection.
    source.onopen?.(new Event('open'))
    expect(reconnected).toHaveBeenCalledTimes(1)
    off()
    source.onerror?.(new Event('error'))
    source.onopen?.(new Event('open'))
    expect(reconnected).toHaveBeenCalledTimes(1)
  })
})
