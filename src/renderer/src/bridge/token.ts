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

/** The parts of `window` a pasted link needs: its URL, and the events and reload of the page. */
export interface PageScope extends UrlScope {
  addEventListener(type: 'hashchange', listener: () => void): void
  location: UrlScope['location'] & Pick<Location, 'reload'>
}

/**
 * Pasting the printed link into a tab that already shows the app changes only the URL fragment:
 * no reload, and a page that lost its session would stay locked out. This takes the new token,
 * opens a session with it (`openSession`) and reloads the page, signed in.
 */
export function signInOnPastedLink(
  openSession: (token: string) => Promise<unknown>,
  scope: PageScope = globalThis as unknown as PageScope,
): void {
  scope.addEventListener('hashchange', () => {
    const token = takeTokenFromUrl(scope)
    if (token) void openSession(token).then(() => scope.location.reload())
  })
}
