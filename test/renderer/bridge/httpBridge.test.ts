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

/** A fetch that opens sessions (204) and answers calls with `result`. */
function serverFetch(result: unknown = TEST_APP_INFO) {
  return vi.fn(async (url: RequestInfo | URL) =>
    String(url).endsWith('/api/session')
      ? new Response(null, { status: 204 })
      : jsonResponse({ ok: true, result }),
  )
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('createHttpBridge', () => {
  it('exchanges the token for the session cookie first, then posts the route', async () => {
    const fetch = serverFetch()
    const bridge = createHttpBridge({ token: 's3cret', fetch })
    const info = await bridge.invoke('app.info', {})
    expect(info.version).toBe('0.1.0')
    expect(fetch).toHaveBeenCalledTimes(2)
    const [sessionUrl, sessionInit] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(sessionUrl).toBe('/api/session')
    expect(sessionInit.method).toBe('POST')
    expect(sessionInit.credentials).toBe('same-origin')
    expect((sessionInit.headers as Record<string, string>).Authorization).toBe('Bearer s3cret')
    const [url, init] = fetch.mock.calls[1] as unknown as [string, RequestInit]
    expect(url).toBe('/api/invoke')
    expect(init.method).toBe('POST')
    expect(init.credentials, 'the session cookie goes along').toBe('same-origin')
    expect(JSON.parse(init.body as string)).toEqual({ name: 'app.info', input: {} })
    // A second call does not open another session.
    await bridge.invoke('app.info', {})
    expect(fetch.mock.calls.filter(([u]) => u === '/api/session')).toHaveLength(1)
  })

  it('after a reload (no token in the URL) signs in with the cookie alone', async () => {
    const fetch = serverFetch()
    const bridge = createHttpBridge({ token: '', fetch })
    await bridge.invoke('app.info', {})
    expect(fetch).toHaveBeenCalledTimes(1)
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/invoke')
    expect(init.credentials).toBe('same-origin')
    expect(init.headers).not.toHaveProperty('Authorization')
  })

  it('opens the event stream only once the session cookie is set, with no token in its URL', async () => {
    FakeEventSource.instances = []
    let openSession: (response: Response) => void = () => undefined
    const fetch = vi.fn((url: RequestInfo | URL) =>
      String(url).endsWith('/api/session')
        ? new Promise<Response>((resolve) => (openSession = resolve))
        : Promise.resolve(jsonResponse({ ok: true, result: TEST_APP_INFO })),
    )
    const bridge = createHttpBridge({
      token: 'tok',
      fetch,
      createEventSource: (url) => new FakeEventSource(url),
    })
    bridge.on('training.state', vi.fn())
    await settle()
    expect(FakeEventSource.instances, 'no stream before the cookie').toHaveLength(0)
    openSession(new Response(null, { status: 204 }))
    await settle()
    expect(FakeEventSource.instances).toHaveLength(1)
    expect(FakeEventSource.instances[0]!.url).toBe('/api/events')
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
    const bridge = createHttpBridge({ token: '', fetch })
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

  it('delivers validated events from one EventSource', async () => {
    FakeEventSource.instances = []
    const bridge = createHttpBridge({
      token: 'a b',
      fetch: serverFetch(),
      createEventSource: (url) => new FakeEventSource(url),
    })
    const progress = vi.fn()
    const state = vi.fn()
    const offProgress = bridge.on('dataset.progress', progress)
    const offState = bridge.on('training.state', state)
    await settle()
    expect(FakeEventSource.instances).toHaveLength(1)
    const source = FakeEventSource.instances[0]!
    expect(source.url).toBe('/api/events')

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
  it('tells onReconnect subscribers when the event stream opens, and when it comes back after an error', async () => {
    FakeEventSource.instances = []
    const bridge = createHttpBridge({
      token: '',
      fetch: vi.fn(),
      createEventSource: (url) => new FakeEventSource(url),
    })
    const reconnected = vi.fn()
    const off = bridge.onReconnect(reconnected)
    bridge.on('training.state', vi.fn())
    await settle()
    const source = FakeEventSource.instances[0]!
    expect(reconnected).not.toHaveBeenCalled()
    // The first open: what was sent before it (after the page asked for the state) was missed.
    source.onopen?.(new Event('open'))
    expect(reconnected).toHaveBeenCalledTimes(1)
    source.onerror?.(new Event('error'))
    source.onopen?.(new Event('open'))
    expect(reconnected).toHaveBeenCalledTimes(2)
    // A second open without an error in between is not a reconnection.
    source.onopen?.(new Event('open'))
    expect(reconnected).toHaveBeenCalledTimes(2)
    off()
    source.onerror?.(new Event('error'))
    source.onopen?.(new Event('open'))
    expect(reconnected).toHaveBeenCalledTimes(2)
  })
})
