import { spawn } from 'node:child_process'
import { join } from 'node:path'

import {
  isTensorFlowNoise,
  NativeSetupError,
  provisionNative,
  verifyNativeTraining,
  type VerifyResult,
} from '@engine/index'

import { parseCommandArgs } from '../args'
import { describeError, EXIT, UsageError } from '../errors'
import type { Output } from '../output'
import { projectRoot } from '../paths'

export const NATIVE_HELP = `inklab native install [--force] [--auto]   (set up native TensorFlow from the PyPI wheel)`

const INSTALL_OPTIONS = {
  force: { type: 'boolean' },
  auto: { type: 'boolean' },
  json: { type: 'boolean' },
} as const

/**
 * What a check process that printed no answer said last on stderr, without the `inklab: error: `
 * prefix and without TensorFlow's start-up chatter (a crash that prints nothing must not be
 * reported as "oneDNN custom operations are on"); undefined when it said nothing else.
 */
export function lastErrorLine(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .filter((l) => !isTensorFlowNoise(l))
    .map((l) => l.replace(/^inklab: error: /, '').trim())
    .filter((l) => l.length > 0)
    .pop()
}

/**
 * Runs `inklab native verify --json` in a new process: native TensorFlow must load there, fresh,
 * and train (a binding loaded in this process could not be replaced by a rebuild).
 */
function verifyInChildProcess(root: string): Promise<VerifyResult> {
  return new Promise((resolve) => {
    let stdout = ''
    let stderr = ''
    const child = spawn(
      process.execPath,
      [join(root, 'bin', 'inklab.mjs'), 'native', 'verify', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } },
    )
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', (error) => resolve({ ok: false, reason: error.message }))
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').pop() ?? ''
      try {
        const parsed = JSON.parse(last) as { ok?: boolean; detail?: string; reason?: string }
        if (parsed.ok === true) return resolve({ ok: true, detail: parsed.detail ?? '' })
        if (typeof parsed.reason === 'string') return resolve({ ok: false, reason: parsed.reason })
      } catch {
        // Not JSON: the process crashed before printing its answer.
      }
      const errorLine = lastErrorLine(stderr)
      resolve({
        ok: false,
        reason:
          errorLine ??
          (signal ? `the check was killed by ${signal}` : `the check exited with ${code}`),
      })
    })
  })
}

async function install(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('native install', argv, INSTALL_OPTIONS)
  const root = projectRoot()
  // --auto is how `npm install` calls this: never fatal, unless CI says native is required.
  const required = process.env.INKLAB_REQUIRE_NATIVE === '1'
  if (values.auto && process.env.INKLAB_SKIP_NATIVE === '1' && !required) {
    out.info('native: skipped (INKLAB_SKIP_NATIVE=1); training will use WebAssembly')
    out.emitJson({ ok: false, reason: 'skipped' })
    return EXIT.ok
  }
  try {
    const outcome = await provisionNative({
      root,
      force: values.force === true,
      log: (line) => out.info(`native: ${line}`),
      verify: () => verifyInChildProcess(root),
    })
    out.result(
      outcome.status === 'already-working'
        ? `native TensorFlow already works: ${outcome.detail} (--force rebuilds it)`
        : `native TensorFlow is set up: ${outcome.detail}`,
    )
    out.emitJson({ ok: true, ...outcome })
    return EXIT.ok
  } catch (error) {
    const reason = describeError(error)
    if (values.auto && !required) {
      // Run from `npm install`: never fail the install, say what happens instead.
      out.info(
        `native: not set up (${reason}); training will use WebAssembly. Retry: npm run native`,
      )
      out.emitJson({ ok: false, reason })
      return EXIT.ok
    }
    if (error instanceof NativeSetupError) {
      out.emitJson({ ok: false, reason })
      process.stderr.write(`inklab: error: native TensorFlow is not set up: ${reason}\n`)
      return EXIT.failure
    }
    throw error
  }
}

async function verify(argv: string[], out: Output): Promise<number> {
  parseCommandArgs('native verify', argv, { json: { type: 'boolean' } })
  try {
    const check = await verifyNativeTraining()
    out.result(
      `native TensorFlow works: ${check.detail}; loss ${check.lossBefore.toFixed(4)} -> ${check.lossAfter.toFixed(4)} in 6 graph steps`,
    )
    out.emitJson({ ok: true, ...check })
    return EXIT.ok
  } catch (error) {
    const reason = describeError(error)
    out.emitJson({ ok: false, reason })
    process.stderr.write(`inklab: error: ${reason}\n`)
    return EXIT.failure
  }
}

/** `inklab native install|verify`. */
export async function nativeCommand(argv: string[], out: Output): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'install') return install(rest, out)
  if (sub === 'verify') return verify(rest, out)
  throw new UsageError(
    `native: expected "install" or "verify", got ${sub ? `"${sub}"` : 'nothing'}`,
  )
}
