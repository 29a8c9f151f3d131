/**
 * The renderer's Content-Security-Policy, one list shared by every way the UI is served: the HTTP
 * header of serve mode and of the dev server (Electron's `onHeadersReceived`), and the `<meta>` tag
 * of `src/renderer/index.html` for `file://` pages (which get no headers).
 *
 * Scripts only from the app itself (no inline script, no eval); styles also inline because Vue
 * transitions and chart libraries set `style` attributes; images also from `data:`/`blob:` (sample
 * digits, exported charts); no plugins, no `<base>`, no form posts, never framed. Keep the `<meta>`
 * in `src/renderer/index.html` equal to `CONTENT_SECURITY_POLICY` (a test compares them).
 */
const DIRECTIVES: readonly (readonly [string, string])[] = [
  ['default-src', "'self'"],
  ['script-src', "'self'"],
  ['style-src', "'self' 'unsafe-inline'"],
  ['img-src', "'self' data: blob:"],
  ['connect-src', "'self'"],
  ['font-src', "'self'"],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
]

/** The policy as an HTTP `Content-Security-Policy` header value. */
export const CONTENT_SECURITY_POLICY = DIRECTIVES.map(([name, value]) => `${name} ${value}`).join(
  '; ',
)

/**
 * The same policy for a `<meta http-equiv="Content-Security-Policy">` tag: browsers ignore
 * `frame-ancestors` there (and warn), so it is left out.
 */
export const CONTENT_SECURITY_POLICY_META = DIRECTIVES.filter(
  ([name]) => name !== 'frame-ancestors',
)
  .map(([name, value]) => `${name} ${value}`)
  .join('; ')
