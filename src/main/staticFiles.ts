// The renderer's files as both transports serve them: over HTTP in serve mode, and through the
// app's own protocol in Electron. One resolution of a request path, one table of content types.
import { stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'

import type { SerializedError } from '@shared/errors'

/** Content types of the files the renderer is built into. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
}

/** Where a request path leads: a file to send, or why there is none. */
export type StaticFile =
  | { ok: true; file: string; size: number; type: string }
  | { ok: false; status: 400 | 403 | 404; error: SerializedError }

/**
 * The file under `root` that URL path `pathname` (still percent-encoded) names: never one outside
 * `root`; a folder gives its `index.html`, and a client-side route (a path without an extension)
 * gives the app's page.
 */
export async function resolveStaticFile(root: string, pathname: string): Promise<StaticFile> {
  const base = resolve(root)
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    return { ok: false, status: 400, error: { name: 'BadRequest', message: 'malformed path' } }
  }
  if (decoded.includes('\0')) {
    return { ok: false, status: 400, error: { name: 'BadRequest', message: 'malformed path' } }
  }
  const relativePath = normalize(decoded).replace(/^([/\\])+/, '')
  let file = resolve(base, relativePath || 'index.html')
  if (file !== base && !file.startsWith(base + sep)) {
    return {
      ok: false,
      status: 403,
      error: { name: 'Forbidden', message: 'outside the app folder' },
    }
  }
  let info = await stat(file).catch(() => null)
  if (info?.isDirectory()) {
    file = join(file, 'index.html')
    info = await stat(file).catch(() => null)
  }
  if (!info && !extname(file)) {
    file = join(base, 'index.html')
    info = await stat(file).catch(() => null)
  }
  if (!info?.isFile()) {
    return {
      ok: false,
      status: 404,
      error: { name: 'NotFound', message: `no such file: ${decoded}` },
    }
  }
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
  return { ok: true, file, size: info.size, type }
}
