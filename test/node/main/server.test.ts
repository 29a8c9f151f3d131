import { request, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'

import { CONTENT_SECURITY_POLICY } from '@shared/csp'
import { UPLOAD_LIMITS } from '@shared/schemas/dataset'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startServer, type RunningServer } from '../../../src/main/server'
import { createServices, type Services } from '../../../src/main/services/services'
import { createFakeEngine } from './helpers/fakeEngine'
import { inProcessHosts } from './helpers/inProcessTransport'

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

let workDir: string
let server: RunningServer
let services: Services

/** One HTTP request with full control of the headers (fetch refuses to set Host). */
function send(
  path: string,
  options: {
    method?: string
    headers?: Record<string, string>
    body?: string | Buffer
    host?: string
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? '127.0.0.1',
        port: server.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

function invoke(body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return send('/api/invoke', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${server.token}`,
      ...headers,
    },
    body: JSON.stringify(body),
  })
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'inklab-server-'))
  const rendererDir = join(workDir, 'renderer')
  await mkdir(join(rendererDir, 'assets'), { recursive: true })
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>InkLab</title>')
  await writeFile(join(rendererDir, 'assets', 'app.js'), 'console.log(1)')
  await writeFile(join(workDir, 'secret.txt'), 'TOP-SECRET-CONTENT')
  services = createServices({
    dataDir: join(workDir, 'data'),
    resourcesDir: join(workDir, 'resources'),
    transport: inProcessHosts(createFakeEngine()).factory,
  })
  server = await startServer({
    port: 0,
    dataDir: join(workDir, 'data'),
    resourcesDir: join(workDir, 'resources'),
    rendererDir,
    services,
    maxBodyBytes: 4096,
  })
})

afterAll(async () => {
  await server.close()
  await services.close()
  await rm(workDir, { recursive: true, force: true })
})

describe('serve mode HTTP server', () => {
  it('prints a URL on 127.0.0.1 with the token in the fragment', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`)
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/)
  })

  it('listens on the loopback interface only', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)
    if (!external) return // no other interface on this machine: nothing to check
    await expect(
      send('/', { host: external.address, headers: { Host: `127.0.0.1:${server.port}` } }),
    ).rejects.toThrow(/ECONNREFUSED/)
  })

  it('requires the token on API calls (401), compared exactly', async () => {
    const noToken = await send('/api/invoke', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'app.info', input: {} }),
    })
    expect(noToken.status).toBe(401)
    expect(JSON.parse(noToken.body)).toMatchObject({ ok: false, error: { name: 'Unauthorized' } })
    expect(
      (await invoke({ name: 'app.info', input: {} }, { Authorization: 'Bearer wrong' })).status,
    ).toBe(401)
    const prefix = server.token.slice(0, -1)
    expect(
      (await invoke({ name: 'app.info', input: {} }, { Authorization: `Bearer ${prefix}` })).status,
    ).toBe(401)
    // A token in the URL opens nothing (URLs end up in logs and history).
    const query = await send(`/api/invoke?token=${server.token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'app.info', input: {} }),
    })
    expect(query.status).toBe(401)
    expect((await send('/api/events')).status).toBe(401)
    expect((await send(`/api/events?token=${server.token}`)).status).toBe(401)
  })

  it('exchanges the token once for an HttpOnly, SameSite=Strict session cookie', async () => {
    const opened = await send('/api/session', {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}`, Origin: server.origin },
    })
    expect(opened.status).toBe(204)
    const [setCookie] = opened.headers['set-cookie'] ?? []
    expect(setCookie).toBeDefined()
    const attributes = setCookie!.split(';').map((part) => part.trim())
    const [pair, ...flags] = attributes
    const [name, value] = pair!.split('=')
    expect(name, 'one cookie per port: cookies do not tell ports apart').toBe(
      `inklab-session-${server.port}`,
    )
    expect(server.sessionCookie).toBe(name)
    expect(value, 'the cookie carries its own secret, not the token').not.toBe(server.token)
    expect(value!.length).toBeGreaterThanOrEqual(40)
    expect(flags).toEqual(
      expect.arrayContaining([
        'Path=/',
        'HttpOnly',
        'SameSite=Strict',
        expect.stringMatching(/^Max-Age=\d{6,}$/),
      ]),
    )

    // A reload: the same browser, no token, only the cookie.
    const cookie = { Cookie: `other=1; ${name}=${value}` }
    const call = await send('/api/invoke', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Origin: server.origin,
        'Sec-Fetch-Site': 'same-origin',
        ...cookie,
      },
      body: JSON.stringify({ name: 'app.info', input: {} }),
    })
    expect(call.status).toBe(200)
    expect(JSON.parse(call.body)).toMatchObject({ ok: true })

    // Asking again with the same link (pasted a second time) works too.
    const again = await send('/api/session', {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}` },
    })
    expect(again.status).toBe(204)
    expect(again.headers['set-cookie']?.[0]).toContain(`${name}=${value}`)

    // Wrong cookies, cookies of another port, and a cookie trying to open a session are refused.
    const post = (headers: Record<string, string>) =>
      send('/api/invoke', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: server.origin, ...headers },
        body: JSON.stringify({ name: 'app.info', input: {} }),
      })
    expect((await post({ Cookie: `${name}=${value}x` })).status).toBe(401)
    expect((await post({ Cookie: `inklab-session-1=${value}` })).status).toBe(401)
    const renew = await send('/api/session', {
      method: 'POST',
      headers: { ...cookie, Origin: server.origin },
    })
    expect(renew.status).toBe(401)
    expect(renew.headers['set-cookie']).toBeUndefined()
    // A wrong token buys nothing.
    const wrong = await send('/api/session', {
      method: 'POST',
      headers: { Authorization: 'Bearer no' },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers['set-cookie']).toBeUndefined()
    expect(
      (await send('/api/session', { headers: { Authorization: `Bearer ${server.token}` } })).status,
    ).toBe(405)
  })

  it('accepts the session cookie from this origin only', async () => {
    const opened = await send('/api/session', {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}` },
    })
    const cookie = opened.headers['set-cookie']![0]!.split(';')[0]!
    const post = (headers: Record<string, string>) =>
      send('/api/invoke', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Cookie: cookie, ...headers },
        body: JSON.stringify({ name: 'app.info', input: {} }),
      })
    expect((await post({ Origin: server.origin })).status).toBe(200)
    expect((await post({ Origin: 'http://evil.example' })).status).toBe(403)
    // A cookie-authenticated POST must say where it comes from.
    expect((await post({})).status).toBe(401)
    expect((await post({ Origin: server.origin, 'Sec-Fetch-Site': 'same-site' })).status).toBe(401)
    expect((await post({ Origin: server.origin, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403)
    // The event stream (a GET) signs in with the cookie.
    const events = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/api/events',
          headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' },
        },
        resolve,
      )
      req.on('error', reject)
      req.end()
    })
    expect(events.statusCode).toBe(200)
    events.destroy()
  })

  it('answers routes with { ok, result } through the shared handlers', async () => {
    const reply = await invoke({ name: 'app.info', input: {} })
    expect(reply.status).toBe(200)
    const body = JSON.parse(reply.body) as {
      ok: boolean
      result: { transport: string; nativeDialogs: boolean }
    }
    expect(body.ok).toBe(true)
    expect(body.result).toMatchObject({ transport: 'http', nativeDialogs: false })
    const dialog = JSON.parse(
      (await invoke({ name: 'dialog.open', input: { kind: 'folder' } })).body,
    )
    expect(dialog).toEqual({ ok: true, result: { paths: null } })
  })

  it('rejects unknown routes and bad input with 400 and a clear error', async () => {
    const unknown = await invoke({ name: 'fs.readAll', input: {} })
    expect(unknown.status).toBe(400)
    expect(JSON.parse(unknown.body)).toMatchObject({ ok: false, error: { name: 'UnknownRoute' } })
    const bad = await invoke({ name: 'runs.get', input: { runId: 7 } })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).error.message).toMatch(/runId/)
    const notJson = await send('/api/invoke', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      body: '{nope',
    })
    expect(notJson.status).toBe(400)
    const wrongType = await send('/api/invoke', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${server.token}` },
      body: '{}',
    })
    expect(wrongType.status).toBe(415)
    expect(
      (await send('/api/invoke', { headers: { Authorization: `Bearer ${server.token}` } })).status,
    ).toBe(405)
    expect(
      (await send('/api/other', { headers: { Authorization: `Bearer ${server.token}` } })).status,
    ).toBe(404)
  })

  it('refuses bodies over the limit with 413', async () => {
    const big = await invoke({
      name: 'draw.classify',
      input: { width: 1, height: 1, data: 'A'.repeat(10_000) },
    })
    expect(big.status).toBe(413)
    expect(JSON.parse(big.body)).toMatchObject({ ok: false, error: { name: 'PayloadTooLarge' } })
  })

  it('refuses foreign origins and hosts (403), accepts localhost and same origin', async () => {
    const foreign = await invoke({ name: 'app.info', input: {} }, { Origin: 'http://evil.example' })
    expect(foreign.status).toBe(403)
    const otherPort = await invoke(
      { name: 'app.info', input: {} },
      { Origin: 'http://127.0.0.1:1' },
    )
    expect(otherPort.status).toBe(403)
    const rebinding = await invoke(
      { name: 'app.info', input: {} },
      { Host: `evil.example:${server.port}` },
    )
    expect(rebinding.status).toBe(403)
    expect((await send('/', { headers: { Host: 'evil.example' } })).status).toBe(403)
    const same = await invoke({ name: 'app.info', input: {} }, { Origin: server.origin })
    expect(same.status).toBe(200)
    const localhost = await invoke(
      { name: 'app.info', input: {} },
      { Host: `localhost:${server.port}`, Origin: `http://localhost:${server.port}` },
    )
    expect(localhost.status).toBe(200)
  })

  it('streams events over SSE', async () => {
    const received: { name: string; payload: unknown }[] = []
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/api/events',
          headers: { Authorization: `Bearer ${server.token}` },
        },
        resolve,
      )
      req.on('error', reject)
      req.end()
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/)
    let buffer = ''
    const gotTwo = new Promise<void>((resolve) => {
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = frame.split('\n').find((line) => line.startsWith('data: '))
          if (data) received.push(JSON.parse(data.slice(6)) as { name: string; payload: unknown })
          if (received.length >= 2) resolve()
        }
      })
    })
    await new Promise((r) => setTimeout(r, 50))
    services.events.emit('dataset.progress', { phase: 'decoding', done: 1, total: 2 })
    await gotTwo
    res.destroy()
    expect(received[0].name).toBe('engine.status')
    expect(received[1]).toEqual({
      name: 'dataset.progress',
      payload: { phase: 'decoding', done: 1, total: 2 },
    })
  })

  it('takes a folder uploaded file by file, imports it, and removes the uploaded files', async () => {
    const call = async (name: string, input: unknown) => {
      const reply = JSON.parse((await invoke({ name, input })).body) as {
        ok: boolean
        result?: unknown
        error?: { name: string; message: string }
      }
      if (!reply.ok) throw new Error(`${reply.error?.name}: ${reply.error?.message}`)
      return reply.result as Record<string, unknown>
    }
    const description = { name: 'letters', files: 3, bytes: 9, fingerprint: 'f1' }
    const { uploadId } = (await call('dataset.uploadStart', description)) as { uploadId: string }
    const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
      send(`/api/upload/${uploadId}/${path}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${server.token}`, ...headers },
        body,
      })
    for (const [cls, file] of [
      ['a', '1.png'],
      ['b', 'dé jà.png'],
      ['c', '3.PNG'],
    ]) {
      const reply = await put(`${cls}/${encodeURIComponent(file!)}`, 'png')
      expect(reply.status, reply.body).toBe(200)
      expect(JSON.parse(reply.body)).toEqual({ ok: true, result: { bytes: 3 } })
    }
    const uploadDir = join(workDir, 'data', 'uploads', uploadId)
    expect(readdirSync(join(uploadDir, 'b'))).toEqual(['dé jà.png'])

    // Refused, each with its reason, and nothing written.
    const notImage = await put('a/notes.txt', 'hello')
    expect(notImage.status).toBe(415)
    expect(JSON.parse(notImage.body).error.message).toMatch(/notes\.txt": not an image file/)
    expect((await put('..%2F..%2Fescape.png', 'x')).status).toBe(400)
    // (The URL parser resolves the dots first: what is left names no upload.)
    expect([400, 404]).toContain((await put('a/../../escape.png', 'x')).status)
    expect((await put('a/%E0%A4%A.png', 'x')).status).toBe(400)
    const tooBig = await send(`/api/upload/${uploadId}/a/huge.png`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${server.token}`,
        'Content-Length': String(UPLOAD_LIMITS.fileBytes + 1),
      },
    })
    expect(tooBig.status).toBe(413)
    expect(JSON.parse(tooBig.body).error.message).toMatch(
      /huge\.png" is 32 MB; an image file may be at most 32 MB/,
    )
    expect(
      (
        await send(`/api/upload/upload-nope/a/1.png`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${server.token}` },
          body: 'x',
        })
      ).status,
    ).toBe(404)
    expect(
      (await send(`/api/upload/${uploadId}/a/1.png`, { method: 'PUT', body: 'x' })).status,
    ).toBe(401)
    expect(
      (
        await send(`/api/upload/${uploadId}/a/1.png`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${server.token}` },
        })
      ).status,
    ).toBe(405)
    expect(existsSync(join(uploadDir, 'a', 'notes.txt'))).toBe(false)
    expect(existsSync(join(workDir, 'data', 'escape.png'))).toBe(false)

    // Imported through the folder import; the dataset knows the folder again by its name.
    const summary = await call('dataset.importUpload', { uploadId, testFraction: 0.2 })
    expect(summary).toMatchObject({
      name: 'letters',
      source: { kind: 'folder', upload: { name: 'letters', fingerprint: 'f1' } },
    })
    expect(existsSync(uploadDir), 'the uploaded files are gone').toBe(false)
    expect(await call('dataset.find', { upload: description })).toMatchObject({ id: summary.id })
    // A correction keeps where the dataset came from: it is still known by its upload.
    const corrected = await call('collection.correct', {
      datasetId: (summary as { id: string }).id,
      key: 'train:0',
      correction: { action: 'exclude' },
    })
    expect(corrected).toMatchObject({
      summary: {
        source: { upload: { name: 'letters', fingerprint: 'f1' } },
        edits: { excluded: 1 },
      },
    })
    expect(await call('dataset.find', { upload: description })).toMatchObject({ id: summary.id })
    await expect(call('dataset.importUpload', { uploadId })).rejects.toThrow(/no upload with id/)

    // Over the limits before a byte is sent: the message says so and what to do instead.
    await expect(
      call('dataset.uploadStart', { ...description, bytes: UPLOAD_LIMITS.totalBytes + 1 }),
    ).rejects.toThrow(/letters" is 2\.0 GB; an upload takes at most 2\.0 GB: import it by its path/)
    // An upload of nothing imports nothing.
    const empty = (await call('dataset.uploadStart', description)) as { uploadId: string }
    await expect(call('dataset.importUpload', { uploadId: empty.uploadId })).rejects.toThrow(
      /no image file arrived/,
    )
  })

  it('serves the renderer with a strict CSP and never files outside it', async () => {
    const page = await send('/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY)
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.body).toContain('<title>InkLab</title>')
    const script = await send('/assets/app.js')
    expect(script.headers['content-type']).toMatch(/^text\/javascript/)
    expect((await send('/models/route')).body).toContain('<title>InkLab</title>')
    expect((await send('/assets/missing.js')).status).toBe(404)
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const reply = await send(path)
      expect(reply.body).not.toContain('TOP-SECRET-CONTENT')
      expect([403, 404]).toContain(reply.status)
    }
    expect((await send('/', { method: 'POST' })).status).toBe(405)
  })
})

/** Opens a raw connection, sends `head` and a first bit of a body that never completes. */
function trickle(port: number, head: string): Promise<{ reply: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head)
      socket.write('{"name":')
    })
    let reply = ''
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()))
    socket.on('error', () => undefined)
    socket.on('close', () => resolve({ reply, closedAfterMs: Date.now() - started }))
    setTimeout(() => {
      socket.destroy()
      reject(new Error(`the server kept the connection open; it answered: ${reply || 'nothing'}`))
    }, 8000).unref()
  })
}

describe('serve mode: slow and refused requests', () => {
  it('drops a request whose body never finishes, and closes a refused one at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inklab-server-slow-'))
    const slow = await startServer({
      port: 0,
      dataDir: join(dir, 'data'),
      resourcesDir: join(dir, 'resources'),
      rendererDir: join(dir, 'renderer'),
      services: createServices({
        dataDir: join(dir, 'data'),
        resourcesDir: join(dir, 'resources'),
        transport: inProcessHosts(createFakeEngine()).factory,
      }),
      requestTimeoutMs: 400,
    })
    try {
      const head = (token: string) =>
        `POST /api/invoke HTTP/1.1\r\nHost: 127.0.0.1:${slow.port}\r\n` +
        `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
        `Content-Length: 100000\r\n\r\n`
      const refused = await trickle(slow.port, head('wrong'))
      expect(refused.reply).toMatch(/^HTTP\/1\.1 401/)
      expect(refused.closedAfterMs).toBeLessThan(2000)
      const stalled = await trickle(slow.port, head(slow.token))
      expect(stalled.reply).toMatch(/^HTTP\/1\.1 408|^$/)
      expect(stalled.closedAfterMs).toBeLessThan(4000)
    } finally {
      await slow.close()
      await slow.services.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses to start on a data folder under a file, before it listens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inklab-server-bad-'))
    try {
      await writeFile(join(dir, 'file'), 'x')
      await expect(
        startServer({
          port: 0,
          dataDir: join(dir, 'file', 'data'),
          resourcesDir: join(dir, 'resources'),
          rendererDir: join(dir, 'renderer'),
          hostEntry: join(dir, 'never-started.js'),
        }),
      ).rejects.toThrow(/file: is a file, not a folder/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
