#!/usr/bin/env node
// `npm test`: type-checks and lints, builds the app, runs the unit/component/integration tests (vitest) and the end-to-end
// tests (Playwright + Debian's Chromium against serve mode), then prints one summary line.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')
const results = join(root, 'test-results')
mkdirSync(results, { recursive: true })

function run(command, args, options = {}) {
  console.log(`\n$ ${command} ${args.join(' ')}`)
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options })
  return r.status ?? 1
}

/** Chromium for the end-to-end tests: Debian's package, installed when missing and we can. */
function ensureChromium() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']
  const found = candidates.find((p) => p && existsSync(p))
  if (found) return found
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    console.log(
      "Chromium is missing: installing Debian's chromium package for the end-to-end tests",
    )
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    if (
      run('apt-get', ['update', '-qq'], { env }) === 0 &&
      run('apt-get', ['install', '-y', '-qq', 'chromium'], { env }) === 0 &&
      existsSync('/usr/bin/chromium')
    ) {
      return '/usr/bin/chromium'
    }
  }
  return null
}

/** Whether native TensorFlow loads, as the built CLI's `inklab backends` reports it. */
function nativeStatus() {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'inklab.mjs'), 'backends', '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  })
  try {
    const { backends } = JSON.parse(r.stdout.trim().split('\n').pop() ?? '')
    const probe = backends.find((b) => b.name === 'native')
    return { available: probe.available === true, reason: probe.reason ?? '' }
  } catch {
    return {
      available: false,
      reason: `inklab backends failed: ${(r.stderr ?? '').trim().split('\n').pop()}`,
    }
  }
}

let passed = 0
let failed = 0
let skipped = 0
function count(file) {
  if (!existsSync(file)) return false
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  // A test file that failed to load has no failed test but fails the run: count it once.
  if (report.success === false && (report.numFailedTests ?? 0) === 0) failed += 1
  return true
}

// Types and lint first: a type error or a layering violation fails the run like a failing test.
for (const script of ['typecheck', 'lint']) {
  if (run('npm', ['run', '--silent', script]) !== 0) {
    console.error(`\nnpm run ${script} failed`)
    failed += 1
  }
}

const buildStatus = run('npx', ['electron-vite', 'build', '--logLevel', 'warn'])
if (buildStatus !== 0) {
  console.error('\nthe build failed; no tests were run')
  console.log('tests: 0 passed, 1 failed')
  process.exit(1)
}

/** Runs vitest on `projects`, reporting to test-results/`report`, and counts the results. */
function vitest(projects, report, env = process.env) {
  const file = join(results, report)
  const status = run(
    'npx',
    [
      'vitest',
      'run',
      ...projects.flatMap((p) => ['--project', p]),
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${file}`,
    ],
    { env },
  )
  if (!count(file) && status !== 0) failed += 1
  return status
}

const unitStatus = vitest(['node', 'renderer'], 'vitest.json')

// The engine tests again on native TensorFlow, where it loads. CI sets INKLAB_REQUIRE_NATIVE=1 so
// that native which did not provision fails the run instead of being left out.
const native = nativeStatus()
const nativeRequired = process.env.INKLAB_REQUIRE_NATIVE === '1'
let nativeTestStatus = 0
if (native.available || nativeRequired) {
  if (!native.available)
    console.error(`\nnative TensorFlow is required but unavailable: ${native.reason}`)
  nativeTestStatus = vitest(['native'], 'vitest-native.json')
} else {
  console.log(
    `\nengine tests on native TensorFlow: not run, native is unavailable here (${native.reason}); set it up with "npm run native"`,
  )
}

const chromium = ensureChromium()
let e2eStatus = 0
if (!chromium) {
  console.error(
    '\nend-to-end tests need Chromium: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH',
  )
  failed += 1
  e2eStatus = 1
} else {
  e2eStatus = vitest(['e2e'], 'e2e.json', { ...process.env, CHROMIUM_PATH: chromium })
}

console.log(`\nscreenshots and reports: ${results}`)
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(unitStatus !== 0 || nativeTestStatus !== 0 || e2eStatus !== 0 || failed > 0 ? 1 : 0)
