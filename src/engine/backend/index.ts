import { join } from 'node:path'

import * as tf from '@tensorflow/tfjs'
import type { BackendInfo, BackendName, BackendRequest } from '@shared/schemas/backend'
import { describeProvenance, readManifest } from '../native/manifest'
import {
  isNativePackageInstalled,
  loadNativeBinding,
  nativePackageDir,
  nativeLoadAttempt,
  NATIVE_NOT_INSTALLED_REASON,
  NATIVE_TFJS_BACKEND,
} from './nativeLoader'
import { registerWasmTrainingKernels } from './wasmKernels'

export {
  loadNativeBinding,
  shimLegacyUtil,
  NATIVE_NOT_INSTALLED_REASON,
  type NativeLoadResult,
} from './nativeLoader'
export { conv2DBackpropFilterWasm, registerWasmTrainingKernels } from './wasmKernels'

/** Whether a backend can run here and, when it cannot (or is not advisable), why. */
export interface BackendProbe {
  name: BackendName
  available: boolean
  reason?: string
  /** What runs when available (for native: libtensorflow's version and where it came from). */
  detail?: string
}

/** tfjs backend id for each InkLab backend name. */
export const TFJS_BACKEND_IDS: Readonly<Record<BackendName, string>> = {
  native: NATIVE_TFJS_BACKEND,
  wasm: 'wasm',
  cpu: 'cpu',
}

/**
 * Why the wasm backend runs on one thread in Node: tfjs-backend-wasm 4.22 reports no multithread
 * support under Node (tensorflow/tfjs#3830); forcing the flag makes Emscripten start its pthread
 * workers from a `blob:` URL, which Node's `worker_threads` rejects (ERR_WORKER_PATH). Tried too:
 * writing the worker and the bundled threaded factory to files (with the bundle's `require$$N`
 * names defined) gets the threaded-SIMD module to load, but `setThreadsCount(2)` still leaves
 * `getThreadsCount()` at 1 and convolutions no faster, so it was not pursued.
 */
export const WASM_SINGLE_THREAD_NOTE = 'no multithreading in Node'

const CPU_DETAIL = 'pure JavaScript, very slow: for debugging only'

/**
 * Loads the wasm backend package and registers its backend. Imported on demand so that importing
 * this module does no work; Node caches the module, so later calls are free.
 */
async function ensureWasmRegistered(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm')
  registerWasmTrainingKernels()
}

async function wasmDetail(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true
  const threads = wasm.getThreadsCount()
  const base = `WebAssembly${simd ? ' SIMD' : ' without SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`
  return threads === 1 ? `${base}, ${WASM_SINGLE_THREAD_NOTE}` : base
}

/** "libtensorflow 2.21.0 CPU, from the PyPI tensorflow-cpu 2.21.0 wheel, set up by ...". */
function nativeDetail(): string {
  // tfjs-node's backend exposes its N-API binding; TF_Version is libtensorflow's version string.
  const backend = tf.findBackend(NATIVE_TFJS_BACKEND) as { binding?: { TF_Version?: unknown } }
  const version = backend?.binding?.TF_Version
  const library = typeof version === 'string' ? `libtensorflow ${version} CPU` : 'libtensorflow CPU'
  const dir = nativePackageDir()
  return `${library}, ${describeProvenance(dir ? readManifest(join(dir, 'deps')) : undefined)}`
}

/**
 * Why the native backend is not running after an explicit `wasm` or `cpu` request, without loading
 * libtensorflow just to find out when the user asked for something else.
 */
function nativeReasonFor(request: BackendRequest): string {
  const attempt = nativeLoadAttempt()
  if (attempt !== undefined && !attempt.ok) return attempt.reason
  if (!isNativePackageInstalled()) return NATIVE_NOT_INSTALLED_REASON
  return attempt?.ok === true
    ? `available, but the '${request}' backend was requested`
    : `not loaded because the '${request}' backend was requested`
}

async function activate(tfjsBackend: string): Promise<void> {
  if (tf.engine().backendName === tfjsBackend && tf.findBackend(tfjsBackend) != null) return
  const ok = await tf.setBackend(tfjsBackend)
  if (!ok) throw new Error(`tfjs could not initialise the '${tfjsBackend}' backend`)
  await tf.ready()
}

async function initWasm(request: BackendRequest, nativeReason: string): Promise<BackendInfo> {
  await ensureWasmRegistered()
  await activate('wasm')
  return {
    name: 'wasm',
    requested: request,
    tfjsBackend: 'wasm',
    detail: await wasmDetail(),
    nativeUnavailableReason: nativeReason,
  }
}

async function initBackendNow(request: BackendRequest): Promise<BackendInfo> {
  if (request === 'auto' || request === 'native') {
    const native = loadNativeBinding()
    if (native.ok) {
      await activate(NATIVE_TFJS_BACKEND)
      const detail = nativeDetail()
      return { name: 'native', requested: request, tfjsBackend: NATIVE_TFJS_BACKEND, detail }
    }
    if (request === 'native') {
      throw new Error(`The native TensorFlow backend is unavailable: ${native.reason}`)
    }
    return initWasm(request, native.reason)
  }
  if (request === 'wasm') return initWasm(request, nativeReasonFor(request))
  await activate('cpu')
  return {
    name: 'cpu',
    requested: request,
    tfjsBackend: 'cpu',
    detail: CPU_DETAIL,
    nativeUnavailableReason: nativeReasonFor(request),
  }
}

// tfjs has one global engine, so backend switches are serialised: a second call waits for the first.
let queue: Promise<unknown> = Promise.resolve()

/**
 * Picks and activates the tfjs backend. `auto`: native (tfjs-node) if it loads, else wasm with
 * InkLab's training kernels; never `cpu`. An explicit `native` that cannot load throws with the
 * reason. Safe to call repeatedly and concurrently: calls run one after another, and asking for the
 * backend already active only re-reads its description.
 */
export function initBackend(request: BackendRequest = 'auto'): Promise<BackendInfo> {
  const run = queue.then(() => initBackendNow(request))
  queue = run.catch(() => undefined)
  return run
}

/**
 * Lists the backends with whether each can run here. Probing loads tfjs-node (when installed) and
 * initialises wasm; the backend active before the call is active again after it (when none was,
 * the last one probed stays active).
 */
export function probeBackends(): Promise<BackendProbe[]> {
  const run = queue.then(probeNow)
  queue = run.catch(() => undefined)
  return run
}

async function probeNow(): Promise<BackendProbe[]> {
  const previous = tf.engine().backendName as string | null
  const probes: BackendProbe[] = []
  try {
    const native = loadNativeBinding()
    probes.push({
      name: 'native',
      available: native.ok,
      ...(native.ok ? { detail: nativeDetail() } : { reason: native.reason }),
    })
    try {
      await ensureWasmRegistered()
      await activate('wasm')
      probes.push({ name: 'wasm', available: true })
    } catch (error) {
      probes.push({ name: 'wasm', available: false, reason: errorMessage(error) })
    }
    probes.push({ name: 'cpu', available: true, reason: CPU_DETAIL })
  } finally {
    if (previous != null && tf.engine().backendName !== previous) await tf.setBackend(previous)
  }
  return probes
}

/** One line for the CLI, e.g. "backend: wasm (WebAssembly SIMD, 1 thread) — native TensorFlow unavailable: …". */
export function describeBackend(info: BackendInfo): string {
  const head = `backend: ${info.name} (${info.detail})`
  return info.nativeUnavailableReason === undefined
    ? head
    : `${head} — native TensorFlow unavailable: ${info.nativeUnavailableReason}`
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
