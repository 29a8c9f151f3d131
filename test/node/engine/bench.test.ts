import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { initBackend } from '@engine/backend'
import { loadNativeBinding } from '@engine/backend/nativeLoader'
import { describeBench, runBenchmark, TARGET_ACCURACY } from '@engine/bench'
import { TEST_BACKEND } from '../helpers/backend'

describe('runBenchmark', () => {
  it('measures each available backend and explains the missing ones', async () => {
    await initBackend('cpu')
    const lines: string[] = []
    const result = await runBenchmark({
      seconds: 0.3,
      warmupSteps: 1,
      latencyCalls: 5,
      accuracy: false,
      onLine: (line) => lines.push(line),
    })
    expect(result.presets).toEqual(['classic', 'fast'])
    expect(result.inputShape).toEqual([28, 28, 1])
    expect(result.results.map((r) => r.backend)).toEqual(['native', 'wasm'])

    const [native, wasm] = result.results
    const nativeLoads = loadNativeBinding().ok
    expect(native.available).toBe(nativeLoads)
    if (nativeLoads) {
      // On native, InkLab's training step is the graph.
      expect(native.train?.classic?.step).toBe('graph')
      expect(native.train?.fast?.samplesPerSec).toBeGreaterThan(0)
    } else {
      expect(native.reason).toMatch(/tfjs-node/)
    }

    expect(wasm.available).toBe(true)
    expect(wasm.detail).toMatch(/WebAssembly/)
    for (const preset of ['classic', 'fast'] as const) {
      expect(wasm.train?.[preset]).toMatchObject({ batchSize: 128, step: 'eager' })
      expect(wasm.train?.[preset]?.batches).toBeGreaterThanOrEqual(1)
      expect(wasm.train?.[preset]?.samplesPerSec).toBeGreaterThan(0)
    }
    expect(wasm.inference?.batchSize).toBe(256)
    expect(wasm.inference?.samplesPerSec).toBeGreaterThan(0)
    expect(wasm.latency?.calls).toBe(5)
    expect(wasm.latency?.medianMs).toBeGreaterThan(0)
    expect(wasm.latency?.p95Ms).toBeGreaterThanOrEqual(wasm.latency?.medianMs ?? Infinity)
    expect(wasm.accuracy).toBeUndefined()

    expect(lines.some((l) => l.startsWith('wasm ('))).toBe(true)
    expect(lines.some((l) => /training classic +\d+ samples\/s/.test(l))).toBe(true)
    expect(lines.some((l) => /training fast +\d+ samples\/s/.test(l))).toBe(true)
    // The backend active before the benchmark is restored.
    expect(tf.getBackend()).toBe('cpu')
  })

  it(`times the fast preset on MNIST and reports its test accuracy (${TEST_BACKEND})`, async () => {
    const lines: string[] = []
    const result = await runBenchmark({
      backends: [TEST_BACKEND],
      seconds: 0.2,
      warmupSteps: 1,
      latencyCalls: 2,
      accuracy: { limit: 1200 },
      onLine: (line) => lines.push(line),
    })
    const { accuracy } = result.results[0]
    expect(accuracy).toMatchObject({ preset: 'fast', epochs: 3 })
    expect(accuracy!.trainImages).toBeLessThan(1200)
    expect(accuracy!.seconds).toBeGreaterThan(0)
    expect(accuracy!.testAccuracy).toBeGreaterThan(0.5)
    expect(accuracy!.reached).toBe(accuracy!.testAccuracy >= TARGET_ACCURACY)
    expect(
      lines.some((l) =>
        /accuracy: +fast preset, \d+ images, 3 epochs: [\d.]+% test accuracy in/.test(l),
      ),
    ).toBe(true)
  })

  it('describes an unavailable backend in one line', () => {
    expect(
      describeBench({ backend: 'native', available: false, reason: 'no libtensorflow' }),
    ).toEqual(['native: unavailable — no libtensorflow'])
  })
})
