import { readFile } from 'node:fs/promises'

import { CONTENT_SECURITY_POLICY } from '@shared/csp'

import { resolveStaticFile } from '../staticFiles'
import { RENDERER_HOST } from './security'

/** How the app's scheme is registered before the app is ready: a standard, secure origin. */
export const RENDERER_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
} as const

function refusal(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
  })
}

/**
 * Answers the app's scheme (`inklab://app/...`) from the built renderer folder, with the app's
 * CSP: the window never loads from file://, so pages get no file-protocol privileges, and no
 * path can reach outside the renderer folder.
 */
export function rendererProtocolHandler(
  rendererDir: string,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url)
    if (url.host !== RENDERER_HOST) return refusal(404, 'not found')
    if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405, 'not allowed')
    const found = await resolveStaticFile(rendererDir, url.pathname)
    if (!found.ok) return refusal(found.status, found.error.message)
    return new Response(request.method === 'HEAD' ? null : await readFile(found.file), {
      status: 200,
      headers: {
        'Content-Type': found.type,
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      },
    })
  }
}
