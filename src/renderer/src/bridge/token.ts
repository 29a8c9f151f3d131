/** The parts of `window.location` and `window.history` the token hand-off needs. */
export interface UrlScope {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>
  history: Pick<History, 'replaceState' | 'state'>
}

/**
 * Reads the serve-mode access token from the page URL (`#token=...`) and removes it from the visible
 * URL so it does not linger in the address bar or in bookmarks. Returns '' when there is none.
 */
export function takeTokenFromUrl(scope: UrlScope = globalThis as unknown as UrlScope): string {
  const hash = scope.location.hash.replace(/^#/, '')
  if (!hash) return ''
  const params = new URLSearchParams(hash)
  const token = params.get('token') ?? ''
  if (!token) return ''
  params.delete('token')
  const rest = params.toString()
  scope.history.replaceState(
    scope.history.state,
    '',
    `${scope.location.pathname}${scope.location.search}${rest ? `#${rest}` : ''}`,
  )
  return token
}
