import { rmSync } from 'node:fs'
import { join } from 'node:path'

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterEach, beforeEach } from 'vitest'

import { ensureDir, SCREENSHOTS_DIR, slug, TRACES_DIR } from './paths'

/** Debian's Chromium unless CHROMIUM_PATH names another (`npm test` sets it). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Flags for running as root in a container, offline and headless. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
]

export const VIEWPORT = { width: 1280, height: 800 }

/** One problem the page reported: a console error or an uncaught exception. */
export interface PageProblem {
  kind: 'console' | 'pageerror'
  text: string
}

/**
 * Collects console errors and uncaught page errors. `take()` hands over (and forgets) the ones seen
 * since the last call, except those matching an `allow` pattern (for errors a step provokes on purpose).
 */
export class PageProblems {
  private items: PageProblem[] = []
  private readonly allowed: RegExp[] = []

  attach(page: Page): void {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return
      const where = msg.location().url
      // "Failed to load resource" does not say which one: add the URL.
      this.items.push({ kind: 'console', text: where ? `${msg.text()} (${where})` : msg.text() })
    })
    page.on('pageerror', (error) => {
      this.items.push({ kind: 'pageerror', text: error.stack ?? error.message })
    })
  }

  /** Ignores problems whose text matches `pattern` from now on. */
  allow(pattern: RegExp): void {
    this.allowed.push(pattern)
  }

  take(): PageProblem[] {
    const found = this.items.filter((p) => !this.allowed.some((re) => re.test(p.text)))
    this.items = []
    return found
  }

  /** Throws when the page reported anything unexpected since the last check. */
  assertNone(when: string): void {
    const found = this.take()
    if (found.length) {
      throw new Error(
        `unexpected page errors ${when}:\n${found.map((p) => `  [${p.kind}] ${p.text}`).join('\n')}`,
      )
    }
  }
}

/** A headless Chromium with one page open on the app. */
export interface AppSession {
  browser: Browser
  context: BrowserContext
  page: Page
  problems: PageProblems
  close(): Promise<void>
}

/**
 * Launches headless Chromium, opens `url` at 1280x800 and starts tracing (screenshots and DOM
 * snapshots); each test records its own chunk with `startTraceChunk` / `endTraceChunk`.
 */
export async function openApp(url: string): Promise<AppSession> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  })
  try {
    const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' })
    await context.tracing.start({ screenshots: true, snapshots: true })
    const page = await context.newPage()
    const problems = new PageProblems()
    problems.attach(page)
    await page.goto(url, { waitUntil: 'load' })
    return {
      browser,
      context,
      page,
      problems,
      async close() {
        await context.tracing.stop().catch(() => undefined)
        await browser.close()
      },
    }
  } catch (error) {
    await browser.close()
    throw error
  }
}

/** Begins the trace chunk of one test (and removes the trace an earlier failing run left). */
export async function startTraceChunk(context: BrowserContext, title: string): Promise<void> {
  rmSync(join(TRACES_DIR, `${slug(title)}.zip`), { force: true })
  await context.tracing.startChunk({ title })
}

/**
 * Ends the trace chunk of one test: saved to `test-results/traces/<test>.zip` when it failed,
 * discarded otherwise. Returns the path when saved.
 */
export async function endTraceChunk(
  context: BrowserContext,
  testName: string,
  failed: boolean,
): Promise<string | null> {
  if (!failed) {
    await context.tracing.stopChunk()
    return null
  }
  const path = join(ensureDir(TRACES_DIR), `${slug(testName)}.zip`)
  await context.tracing.stopChunk({ path })
  return path
}

/** Saves a full-window screenshot to `test-results/screenshots/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ensureDir(SCREENSHOTS_DIR), `${name}.png`)
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' })
  return path
}

/** The views of the app's navigation. */
export type AppView = 'data' | 'train' | 'evaluate' | 'draw' | 'models'

/** Clicks a view's nav item and waits for its title; returns how long that took (ms). */
export async function showView(page: Page, view: AppView): Promise<number> {
  const started = performance.now()
  await page.getByTestId(`nav-${view}`).click()
  await page
    .locator(`#${view}-title`)
    .waitFor({ state: 'visible', timeout: 5_000 })
    .catch((error: unknown) => {
      throw new Error(`the ${view} view did not show after clicking its nav item`, { cause: error })
    })
  return Math.round(performance.now() - started)
}

/** Closes every toast (they would cover part of a screenshot). */
export async function dismissToasts(page: Page): Promise<void> {
  const close = page.getByTestId('toast').getByRole('button', { name: 'Dismiss' })
  while ((await close.count()) > 0) await close.first().click()
}

/**
 * Records each test of the calling suite in its own trace chunk (kept when the test fails) and
 * fails a test during which the page reported errors. `current()` gives the browser context and
 * the problems it collects, or nothing when the app did not start; `what` names it in messages
 * and `prefix` goes before each trace's title.
 */
export function traceEachTest(
  current: () => { context: BrowserContext; problems: PageProblems } | undefined,
  what = 'page',
  prefix = '',
): void {
  beforeEach(async ({ task }) => {
    const session = current()
    if (session) await startTraceChunk(session.context, `${prefix}${task.name}`)
  })
  afterEach(async ({ task }) => {
    const session = current()
    if (!session) return
    const problems = session.problems.take()
    const failed = task.result?.state === 'fail' || problems.length > 0
    const trace = await endTraceChunk(session.context, `${prefix}${task.name}`, failed)
    if (trace) console.warn(`trace of "${task.name}": ${trace}`)
    if (problems.length) {
      throw new Error(
        `the ${what} reported errors during "${task.name}":\n` +
          problems.map((p) => `  [${p.kind}] ${p.text}`).join('\n'),
      )
    }
  })
}
