// End to end in the desktop app: Electron itself (main process, sandboxed preload, utility-process
// engine host) driven by playwright-core's `_electron`. Electron is an optional dependency (its
// install downloads the binary), so where it is missing, or where Linux has no display, this spec
// is skipped and says why. On a Linux machine without a display, run it under a virtual one:
//
//   xvfb-run npm run test:e2e
//
// (vitest cannot start Xvfb for itself: the display must exist before Electron is launched.)
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { _electron, type ElectronApplication, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

import { PageProblems, screenshot, traceEachTest } from './helpers/browser'
import { prepareBuild } from './helpers/build'
import { generateShapeDataset, type ShapeDataset } from './helpers/dataset'
import { ROOT } from './helpers/paths'

/** The Electron binary, or why this spec cannot run here. */
function findElectron():
  { path: string; reason?: undefined } | { path?: undefined; reason: string } {
  let path: unknown
  try {
    // Node's own require (not vite's resolver, which maps 'electron' to the test mock): the
    // package's main export is the path of the binary its install step downloaded.
    path = createRequire(join(ROOT, 'package.json'))('electron')
  } catch {
    return {
      reason:
        'the optional "electron" package is not installed (its install step downloads the Electron ' +
        'binary, which needs internet access)',
    }
  }
  if (typeof path !== 'string' || !existsSync(path)) {
    return { reason: `the Electron binary is missing (${String(path)})` }
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'there is no display (DISPLAY is unset); run `xvfb-run npm run test:e2e`' }
  }
  return { path }
}

const electron = findElectron()
if (electron.reason) console.warn(`Electron e2e skipped: ${electron.reason}`)

describe.skipIf(!electron.path)('desktop app in Electron', () => {
  let app: ElectronApplication | undefined
  let page: Page | undefined
  let userData: string | undefined
  let dataset: ShapeDataset | undefined
  const problems = new PageProblems()

  const win = (): Page => {
    if (!page) throw new Error('the Electron window did not open (see beforeAll)')
    return page
  }

  beforeAll(async () => {
    await prepareBuild()
    dataset = await generateShapeDataset(20)
    userData = mkdtempSync(join(tmpdir(), 'inklab-e2e-electron-'))
    const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0
    app = await _electron.launch({
      executablePath: electron.path!,
      // A separate user-data folder: a fresh data dir, and no clash with the single-instance lock of
      // an InkLab the developer has open. XDG_CONFIG_HOME does the same on Linux.
      args: [ROOT, `--user-data-dir=${userData}`, ...(runningAsRoot ? ['--no-sandbox'] : [])],
      env: { ...process.env, XDG_CONFIG_HOME: userData },
      cwd: ROOT,
      timeout: 60_000,
    })
    await app.context().tracing.start({ screenshots: true, snapshots: true })
    page = await app.firstWindow()
    problems.attach(page)
    await page.waitForLoadState('load')
    await page.setViewportSize({ width: 1280, height: 800 })
  })

  afterAll(async () => {
    await app
      ?.context()
      .tracing.stop()
      .catch(() => undefined)
    // Closing the app also ends its utility process (the engine host).
    await app?.close().catch(() => app?.process().kill('SIGKILL'))
    if (userData) rmSync(userData, { recursive: true, force: true })
    if (dataset) rmSync(dataset.dir, { recursive: true, force: true })
  })

  traceEachTest(
    () => (app ? { context: app.context(), problems } : undefined),
    'window',
    'electron ',
  )

  test('starts: one window titled InkLab, the shell rendered, no console errors', async () => {
    expect(app!.windows().length, 'one window').toBe(1)
    expect(await win().title()).toBe('InkLab')
    const title = await app!.evaluate(({ BrowserWindow }) => {
      const first = BrowserWindow.getAllWindows()[0] as unknown as
        { getTitle(): string } | undefined
      return first?.getTitle()
    })
    expect(title, 'the BrowserWindow title').toBe('InkLab')
    await win().getByTestId('nav-data').waitFor({ state: 'visible' })
    await expect
      .poll(() => win().getByTestId('backend-status').textContent(), {
        message: 'the engine host (utility process) reports its backend',
        timeout: 60_000,
      })
      .not.toMatch(/Starting engine|Engine not running/)
  })

  test('the bridge: frozen window.inklab over IPC, no Node in the page', async () => {
    expect(await win().evaluate<string>('typeof window.inklab')).toBe('object')
    expect(await win().evaluate<boolean>('Object.isFrozen(window.inklab)'), 'frozen').toBe(true)
    expect(await win().evaluate<string>('typeof window.inklab.invoke')).toBe('function')
    const info = await win().evaluate<{ transport: string; nativeDialogs: boolean }>(
      'window.inklab.invoke("app.info", {})',
    )
    expect(info.transport).toBe('ipc')
    expect(info.nativeDialogs, 'the desktop app has native dialogs').toBe(true)
    expect(await win().evaluate<string>('typeof window.require'), 'no require').toBe('undefined')
    expect(await win().evaluate<string>('typeof process'), 'no process').toBe('undefined')
    const unknown = await win().evaluate<string>(
      'Promise.resolve().then(() => window.inklab.invoke("no.such.route", {})).then(() => "resolved", (e) => String(e && e.message))',
    )
    expect(unknown, 'unknown routes are rejected').not.toBe('resolved')
  })

  test('imports a folder and trains a short run through the UI', async () => {
    const picker = win().getByTestId('folder-picker')
    await picker.getByRole('textbox').fill(dataset!.dir)
    await picker.getByRole('button', { name: 'Import' }).click()
    await win().getByTestId('class-counts').waitFor({ state: 'visible', timeout: 60_000 })

    await win().getByTestId('nav-train').click()
    await win().getByTestId('preset-select').selectOption('classic')
    await win().getByTestId('epochs-input').fill('2')
    await win().getByTestId('batch-size-input').fill('16')
    await win().getByLabel('Validation split').fill('0.2')
    await win().getByTestId('start-training').click()
    await expect
      .poll(() => win().locator('[data-testid="loss-chart"] canvas').getAttribute('aria-label'), {
        message: 'the loss chart gets data',
        timeout: 60_000,
      })
      .not.toMatch(/No data yet\.$/)
    const final = win().getByTestId('train-final-state')
    await final.waitFor({ state: 'visible', timeout: 120_000 })
    expect(await final.textContent()).toMatch(/^\s*Training completed\./)
    await screenshot(win(), 'electron-train')
  })
})
