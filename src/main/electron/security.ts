import { fileURLToPath } from 'node:url'
import { resolve } from 'node:path'

import { CONTENT_SECURITY_POLICY } from '@shared/csp'

/** Where our renderer page comes from: the built `index.html` on disk, or the dev server. */
export type TrustedRenderer = { kind: 'file'; indexPath: string } | { kind: 'url'; url: string }

/** The part of Electron's `WebFrameMain` the sender check reads. */
export interface FrameLike {
  readonly url: string
  readonly parent: unknown
}

function samePath(a: string, b: string): boolean {
  const left = resolve(a)
  const right = resolve(b)
  return process.platform === 'win32' || process.platform === 'darwin'
    ? left.toLowerCase() === right.toLowerCase()
    : left === right
}

/** True when `url` is our renderer page (same file, or same dev-server origin). */
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
  if (parsed.protocol !== 'file:' || (parsed.host !== '' && parsed.host !== 'localhost'))
    return false
  try {
    return samePath(fileURLToPath(parsed), renderer.indexPath)
  } catch {
    return false
  }
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
