import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { initBackend } from '@engine/backend'
import { isNativePackageInstalled } from '@engine/backend/nativeLoader'
import { describeBench, runBenchmark } from '@engine/bench'

describe('runBenchmark', () => {
  it('measures each available backend and explains the missing ones', async () => {
    await initBackend('cpu')
    const lines: string[] = []
    const result = await runBenchmark({
      seconds: 0.3,
      warmupSteps: 1,
      latencyCalls: 5,
      onLine: (line) => lines.push(line),
    })
    expect(result.model).toBe('classic')
    expect(result.inputShape).toEqual([28, 28, 1])
    expect(result.results.map((r) => r.backend)).toEqual(['native', 'wasm'])

    const [native, wasm] = result.results
    expect(native.available).toBe(isNativePackageInstalled())
    if (!native.available)
      expect(native.reason).toMatch(/^the @tensorflow\/tfjs-node package is not installed/)

    expect(wasm.available).toBe(true)
    expect(wasm.detail).toMatch(/WebAssembly/)
    expect(wasm.train?.batchSize).toBe(128)
    expect(wasm.train?.batches).toBeGreaterThanOrEqual(1)
    expect(wasm.train?.samplesPerSec).toBeGreaterThan(0)
    expect(wasm.inference?.batchSize).toBe(256)
    expect(wasm.inference?.samplesPerSec).toBeGreaterThan(0)
    expect(wasm.latency?.calls).toBe(5)
    expect(wasm.latency?.medianMs).toBeGreaterThan(0)
    expect(wasm.latency?.p95Ms).toBeGreaterThanOrEqual(wasm.latency?.medianMs ?? Infinity)

    expect(lines.some((l) => l.startsWith('wasm ('))).toBe(true)
    expect(lines.some((l) => /training: +\d+ samples\/s/.test(l))).toBe(true)
    // The backend active before the benchmark is restored.
    expect(tf.getBackend()).toBe('cpu')
  })

  it('describes an unavailable backend in one line', () => {
    expect(
      describeBench({ backend: 'native', available: false, reason: 'no libtensorflow' }),
    ).toEqual(['native: unavailable — no libtensorflow'])
  })
})
