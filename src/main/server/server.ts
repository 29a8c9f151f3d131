import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'

import type { SerializedError } from '@shared/errors'
import { CONTENT_SECURITY_POLICY } from '@shared/csp'
import type { BackendRequest } from '@shared/schemas/backend'

import { dispatch } from '../services/dispatch'
import { resolveStaticFile } from '../staticFiles'
import { forkTransport } from '../services/forkTransport'
import { createServices, type Services } from '../services/services'

/** Largest request body accepted (a 4096x4096 drawn image in base64 is about 22 MB). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024
/** Time a client has to send a whole request (headers and body); the answer may take longer. */
export const REQUEST_TIMEOUT_MS = 120_000
/** Comment lines sent on idle event streams so proxies and browsers keep them open. */
const HEARTBEAT_MS = 15_000

/** Options of `startServer`. */
export interface ServerOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number
  dataDir: string
  resourcesDir: string
  /** The built renderer (`out/renderer`). */
  rendererDir: string
  /** The built engine host script; defaults to `engineHost.js` beside this bundle. */
  hostEntry?: string
  /** Backend the engine host activates (default: `INKLAB_BACKEND`, else auto). */
  backend?: BackendRequest
  version?: string
  /** Existing services to serve (not closed by `close()`); otherwise the server creates its own. */
  services?: Services
  /** Request body limit in bytes (default 64 MB). */
  maxBodyBytes?: number
  /** Time to receive a whole request before the connection is dropped (default 2 minutes). */
  requestTimeoutMs?: number
}

/** A running serve-mode server. */
export interface RunningServer {
  /** The address to open, token included: `http://127.0.0.1:PORT/#token=TOKEN`. */
  url: string
  /** `http://127.0.0.1:PORT` */
  origin: string
  port: number
  /** Required on every API request (`Authorization: Bearer`, or `?token=` for the event stream). */
  token: string
  services: Services
  close(): Promise<void>
}

/** Headers on every response. */
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

/** Where the built engine host sits next to the bundle this code was built into. */
function defaultHostEntry(): string {
  return join(__dirname, 'engineHost.js')
}

/** Compares two secrets in constant time (for equal lengths; different lengths fail at once). */
function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  })
  res.end(text)
}

function sendError(res: ServerResponse, status: number, error: SerializedError): void {
  sendJson(res, status, { ok: false, error })
}

/**
 * Answers a request whose body will not be read (refused before it): the connection closes once
 * the answer is out, so a client cannot keep it open by trickling a body nobody reads.
 */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  error: SerializedError,
): void {
  res.setHeader('Connection', 'close')
  res.on('finish', () => {
    req.socket.end()
    setTimeout(() => req.socket.destroy(), 1000).unref()
  })
  sendError(res, status, error)
  req.resume()
}

/** An HTTP-level failure with its status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
  ) {
    super(message)
  }
}

/** Reads a JSON body, refusing more than `limit` bytes. */
function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      reject(
        new HttpError(413, 'PayloadTooLarge', `the request body is larger than ${limit} bytes`),
      )
      req.resume()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) {
        failed = true
        reject(
          new HttpError(413, 'PayloadTooLarge', `the request body is larger than ${limit} bytes`),
        )
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (failed) return
      try {
        resolveBody(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown)
      } catch {
        reject(new HttpError(400, 'BadRequest', 'the request body is not valid JSON'))
      }
    })
    req.on('error', (error) => {
      if (!failed) reject(error)
      failed = true
    })
  })
}

/**
 * Serve mode: the app's UI and its API over HTTP on 127.0.0.1 only, for a browser on this machine.
 *
 * - `GET /` and the renderer's files: static, with a strict CSP. The page reads its token from the
 *   URL fragment it was opened with (`#token=...`, never sent to the server or in a Referer).
 * - `POST /api/invoke` `{ name, input }` -> `{ ok: true, result }` | `{ ok: false, error }`, with
 *   `Authorization: Bearer <token>`.
 * - `GET /api/events?token=<token>`: Server-Sent Events, each `data:` a JSON `{ name, payload }`.
 *
 * Every request must name this server in `Host` (127.0.0.1:PORT or localhost:PORT: DNS-rebinding
 * protection) and, when it has an `Origin`, come from this server's origin.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = randomBytes(24).toString('base64url')
  const ownsServices = options.services === undefined
  const services =
    options.services ??
    createServices({
      dataDir: options.dataDir,
      resourcesDir: options.resourcesDir,
      version: options.version,
      transport: forkTransport({
        entry: options.hostEntry ?? defaultHostEntry(),
        ...(options.backend ? { backend: options.backend } : {}),
      }),
    })
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES
  const rendererDir = resolve(options.rendererDir)
  const streams = new Set<ServerResponse>()
  let port = 0

  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`]
  const allowedOrigins = (): string[] => allowedHosts().map((host) => `http://${host}`)

  function authorized(req: IncomingMessage, url: URL, allowQuery: boolean): boolean {
    const header = req.headers.authorization
    if (typeof header === 'string' && header.startsWith('Bearer ')) {
      return safeEqual(header.slice('Bearer '.length).trim(), token)
    }
    const query = url.searchParams.get('token')
    return allowQuery && query !== null && safeEqual(query, token)
  }

  async function invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = req.headers['content-type'] ?? ''
    if (!/^application\/json\b/i.test(type)) {
      refuse(req, res, 415, {
        name: 'UnsupportedMediaType',
        message: 'send the call as application/json',
      })
      return
    }
    let body: unknown
    try {
      body = await readJsonBody(req, limit)
    } catch (error) {
      if (error instanceof HttpError && error.status === 413) {
        // The rest of an oversized body is not read: close the connection instead of reusing it.
        refuse(req, res, 413, { name: error.errorName, message: error.message })
      } else if (error instanceof HttpError) {
        sendError(res, error.status, { name: error.errorName, message: error.message })
      } else {
        sendError(res, 400, { name: 'BadRequest', message: 'the request body could not be read' })
      }
      return
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      sendError(res, 400, { name: 'BadRequest', message: 'expected a JSON object { name, input }' })
      return
    }
    const call = body as { name?: unknown; input?: unknown }
    // A caller that goes away abandons its call (an evaluation stops).
    const abandoned = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) abandoned.abort()
    })
    const result = await dispatch(services, call.name, call.input, {
      transport: 'http',
      signal: abandoned.signal,
    })
    const status =
      !result.ok &&
      (result.error.name === 'UnknownRoute' || result.error.name === 'ValidationError')
        ? 400
        : 200
    sendJson(res, status, result)
  }

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    })
    res.write('retry: 2000\n\n')
    const send = (event: unknown): void => {
      res.write(`data: ${JSON.stringify(event)}\n\n`)
    }
    // Say where the engine stands at once, so a page that just loaded does not wait for a change.
    send({ name: 'engine.status', payload: services.engine.status })
    const unsubscribe = services.events.on(send)
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS)
    streams.add(res)
    const cleanup = (): void => {
      clearInterval(heartbeat)
      unsubscribe()
      streams.delete(res)
    }
    req.on('close', cleanup)
    res.on('close', cleanup)
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const found = await resolveStaticFile(rendererDir, url.pathname)
    if (!found.ok) {
      sendError(res, found.status, found.error)
      return
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': found.type,
      'Content-Length': found.size,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'Cache-Control': found.type.startsWith('text/html') ? 'no-cache' : 'max-age=3600',
    })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    createReadStream(found.file)
      .on('error', () => res.destroy())
      .pipe(res)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase()
    if (!allowedHosts().includes(host)) {
      refuse(req, res, 403, { name: 'Forbidden', message: 'unexpected Host header' })
      return
    }
    const origin = req.headers.origin
    if (origin !== undefined && !allowedOrigins().includes(origin.toLowerCase())) {
      refuse(req, res, 403, {
        name: 'Forbidden',
        message: 'requests from other origins are refused',
      })
      return
    }
    const url = new URL(req.url ?? '/', `http://${host}`)
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      if (req.headers['sec-fetch-site'] === 'cross-site') {
        refuse(req, res, 403, { name: 'Forbidden', message: 'cross-site requests are refused' })
        return
      }
      const isEvents = url.pathname === '/api/events'
      if (!authorized(req, url, isEvents)) {
        res.setHeader('WWW-Authenticate', 'Bearer')
        refuse(req, res, 401, { name: 'Unauthorized', message: 'missing or wrong access token' })
        return
      }
      if (url.pathname === '/api/invoke' && req.method === 'POST') return invoke(req, res)
      if (isEvents && req.method === 'GET') return openEventStream(req, res)
      const known = url.pathname === '/api/invoke' || isEvents
      refuse(req, res, known ? 405 : 404, {
        name: known ? 'MethodNotAllowed' : 'NotFound',
        message: known ? `${req.method} is not allowed here` : `no API at ${url.pathname}`,
      })
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(req, res, 405, {
        name: 'MethodNotAllowed',
        message: `${req.method} is not allowed here`,
      })
      return
    }
    await serveStatic(req, res, url)
  }

  // The data folder must be usable before anyone is told where to connect.
  try {
    await services.ready
  } catch (error) {
    if (ownsServices) await services.close()
    throw error
  }

  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
  const server: Server = createServer(
    {
      // A request must arrive whole in this time (answers and event streams may take longer).
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 60_000),
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        console.error('InkLab server: request failed:', error)
        if (!res.headersSent)
          sendError(res, 500, { name: 'InternalError', message: 'the request failed' })
        else res.destroy()
      })
    },
  )

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolveListen()
    })
  })
  port = (server.address() as AddressInfo).port
  const origin = `http://127.0.0.1:${port}`
  // Start the engine now so its backend is known when the page asks; failures show in app.info.
  services.engine.start().catch(() => undefined)

  let closed: Promise<void> | null = null
  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    services,
    close() {
      closed ??= (async () => {
        for (const res of streams) res.end()
        streams.clear()
        await new Promise<void>((done) => {
          server.close(() => done())
          server.closeAllConnections()
        })
        if (ownsServices) await services.close()
      })()
      return closed
    },
  }
}
