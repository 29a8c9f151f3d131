import { CONTENT_SECURITY_POLICY } from '@shared/csp'

/** The app's own scheme: the built renderer is served as `inklab://app/...`, never from file://. */
export const RENDERER_SCHEME = 'inklab'
/** The one host of that scheme. */
export const RENDERER_HOST = 'app'
/** The page the window loads. */
export const RENDERER_INDEX_URL = `${RENDERER_SCHEME}://${RENDERER_HOST}/index.html`

/** Where our renderer page comes from: the built renderer (app protocol), or the dev server. */
export type TrustedRenderer = { kind: 'app'; rendererDir: string } | { kind: 'url'; url: string }

/** The URL a window loads for `renderer`. */
export function rendererUrl(renderer: TrustedRenderer): string {
  return renderer.kind === 'url' ? renderer.url : RENDERER_INDEX_URL
}

/** The part of Electron's `WebFrameMain` the sender check reads. */
export interface FrameLike {
  readonly url: string
  readonly parent: unknown
}

/** True when `url` is our renderer (the app protocol's host, or the dev server's origin). */
export function isTrustedUrl(url: string, renderer: TrustedRenderer): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (renderer.kind === 'url') {
    const expected = new URL(renderer.url)
    return parsed.origin !== 'null' && parsed.origin === expected.origin
  }
  return (
    parsed.protocol === `${RENDERER_SCHEME}:` &&
    parsed.host === RENDERER_HOST &&
    parsed.username === '' &&
    parsed.password === ''
  )
}

/**
 * True when an IPC message comes from the main frame of our page: not from an iframe, not from a
 * page the window navigated to, and not from a frame that is already gone (`null`).
 */
export function isTrustedFrame(
  frame: FrameLike | null | undefined,
  renderer: TrustedRenderer,
): boolean {
  if (!frame || frame.parent !== null) return false
  return isTrustedUrl(frame.url, renderer)
}

/** Response headers with our CSP set (replacing any the server sent). */
export function withContentSecurityPolicy(
  headers: Record<string, string[]> | undefined,
): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY]
  return out
}
