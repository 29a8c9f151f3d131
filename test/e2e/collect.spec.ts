// End to end in serve mode, the story of issue 10: collect three classes by drawing on the pad
// (real pointer events, the keyboard flow: a key names the label, Enter saves), train on them,
// read new drawings, correct a wrong prediction and fine-tune, then export the fine-tuned model
// as Keras .h5 and ONNX and read both back with the same predictions as InkLab.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import * as tf from '@tensorflow/tfjs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

import { loadModel } from '@engine/io/modelFiles'
import { predictProbabilities } from '@engine/io/predict'

import { BRISK_PACE, drawStrokes, sampleStrokes, seededRandom } from '../../scripts/lib/padInk.mjs'
import {
  maxAbsDifference,
  predictFromKerasFile,
  predictWithOnnxRuntime,
} from '../node/engine/io/export/helpers'
import { prepareBuild } from './helpers/build'
import {
  dismissToasts,
  openApp,
  screenshot,
  showView,
  type AppSession,
  type AppView,
  traceEachTest,
} from './helpers/browser'
import { ensureDir, RESULTS_DIR, SCREENSHOTS_DIR } from './helpers/paths'
import { LAYOUT_PROBLEMS, MODELS_TABLE_PROBLEMS } from './helpers/probes'
import { invoke, startServe, type ServeHandle } from './helpers/serve'

/** The classes drawn: the key that names each, and the shape drawn for it. */
const CLASSES = [
  { key: 'o', shape: 'circle' },
  { key: 'l', shape: 'line' },
  { key: 'x', shape: 'cross' },
] as const
const PER_CLASS = 6
const DATASET_NAME = 'e2e drawings'
const RUN_NAME = 'e2e drawn shapes'
/** Short runs: 18 drawings train in seconds; native gets more epochs for the same time. */
const EPOCHS_BY_BACKEND: Record<string, number> = { native: 60, wasm: 40, cpu: 5 }
/** What the exports must agree with InkLab to, on probabilities (as issue 10 asks). */
const TOLERANCE = 1e-4
/** A cross drawn narrow: a model trained on the drawn shapes takes it for a line. */
const NARROW_CROSS: [number, number][][] = [
  [
    [125, 40],
    [155, 240],
  ],
  [
    [155, 40],
    [125, 240],
  ],
]

interface Metrics {
  date: string
  collect?: { samples: number; ms: number; msPerSample: number }
  training?: { epochs: number; ms: number }
  fineTune?: { ms: number; before?: number; after?: number; split?: string }
  export?: { h5MaxDiff: number; onnxMaxDiff: number; samples: number }
}

interface DatasetSummary {
  id: string
  name: string
  labels: string[]
  trainCounts: number[]
  trainSize: number
  source: { kind: string }
}

describe('collect by drawing, train, correct, fine-tune and export (serve mode)', () => {
  let server: ServeHandle | undefined
  let session: AppSession | undefined
  let backend = 'wasm'
  let datasetId = ''
  let parentRunId = ''
  let tunedRunId = ''
  const metrics: Metrics = { date: new Date().toISOString() }

  const page = (): Page => {
    if (!session) throw new Error('the browser session did not start (see beforeAll)')
    return session.page
  }
  const byTestId = (id: string) => page().getByTestId(id)

  const go = (view: AppView): Promise<number> => showView(page(), view)

  async function padBox(): Promise<{ x: number; y: number }> {
    const box = await byTestId('draw-pad').boundingBox()
    if (!box) throw new Error('the pad is not on screen')
    return box
  }

  async function datasets(): Promise<DatasetSummary[]> {
    return invoke<DatasetSummary[]>(server!, 'dataset.list')
  }

  /** Waits for the run on the Train view to end, and checks it completed. */
  async function trainingCompleted(timeout: number): Promise<void> {
    const final = byTestId('train-final-state')
    await final.waitFor({ state: 'visible', timeout })
    expect(await final.textContent(), 'the run completed').toMatch(/^\s*Training completed\./)
  }

  /** Draws `strokes` on the pad (classify mode) and returns the label the model settles on. */
  async function classify(strokes: [number, number][][]): Promise<string> {
    await drawStrokes(page(), await padBox(), strokes, null)
    const top = byTestId('prediction-top')
    await top.waitFor({ state: 'visible', timeout: 15_000 })
    // Live answers arrive while drawing; the one after the last stroke wins.
    await page().waitForTimeout(500)
    return (await top.textContent())!.trim().split(' ')[0]!
  }

  beforeAll(async () => {
    await prepareBuild()
    await tf.setBackend('cpu')
    server = await startServe()
    session = await openApp(server.url)
    // The engine host reports its backend once it is up.
    for (let waited = 0; waited < 60_000; waited += 250) {
      const info = await invoke<{ backend: { name: string } | null }>(server, 'app.info')
      if (info.backend) {
        backend = info.backend.name
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  })

  afterAll(async () => {
    await session?.close()
    await server?.stop()
    ensureDir(RESULTS_DIR)
    writeFileSync(
      join(RESULTS_DIR, 'e2e-collect-metrics.json'),
      `${JSON.stringify(metrics, null, 2)}\n`,
    )
    console.log(`e2e collect metrics: ${JSON.stringify(metrics)}`)
  })

  traceEachTest(() => session)

  test('a. collects three classes by drawing with the keyboard flow: key, draw, Enter; undo', async () => {
    await go('data')
    await byTestId('draw-dataset').click()
    await page().locator('#draw-title').waitFor()
    expect(await byTestId('mode-collect').getAttribute('aria-pressed')).toBe('true')
    // No drawn dataset yet: the form for a new one is open.
    await byTestId('collect-new-name').fill(DATASET_NAME)
    await byTestId('collect-create').click()
    await byTestId('collect-label').waitFor()

    const random = seededRandom(1)
    const status = byTestId('collect-status')
    const started = performance.now()
    for (const { key, shape } of CLASSES) {
      // The label's key, typed anywhere but in a field, names what comes next.
      await page().locator('#draw-title').click()
      await page().keyboard.press(key)
      expect(await byTestId('collect-label').inputValue()).toBe(key)
      for (let i = 1; i <= PER_CLASS; i++) {
        await drawStrokes(page(), await padBox(), sampleStrokes(shape, random), BRISK_PACE)
        await page().keyboard.press('Enter')
        await expect
          .poll(() => status.textContent(), { message: `drawing ${i} of "${key}" saved` })
          .toContain(`Saved “${key}”: ${i} of 20`)
      }
    }
    const ms = Math.round(performance.now() - started)
    const samples = CLASSES.length * PER_CLASS
    metrics.collect = { samples, ms, msPerSample: Math.round(ms / samples) }
    expect(await byTestId('draw-clear').isDisabled(), 'each save clears the pad').toBe(true)

    const chips = byTestId('collect-counts').locator('button')
    expect(await chips.allTextContents()).toEqual(
      CLASSES.map(({ key }) => expect.stringMatching(new RegExp(`^\\s*${key}\\s*${PER_CLASS}/20`))),
    )
    let summary = (await datasets()).find((d) => d.name === DATASET_NAME)!
    expect(summary).toMatchObject({
      source: { kind: 'drawn' },
      labels: CLASSES.map((c) => c.key),
      trainCounts: [PER_CLASS, PER_CLASS, PER_CLASS],
    })
    datasetId = summary.id

    // Ctrl+Z on an empty pad undoes the last save; a new drawing takes its place.
    await page().keyboard.press('Control+z')
    await expect
      .poll(async () => (await datasets()).find((d) => d.id === datasetId)?.trainCounts)
      .toEqual([PER_CLASS, PER_CLASS, PER_CLASS - 1])
    await drawStrokes(page(), await padBox(), sampleStrokes('cross', random), BRISK_PACE)
    await page().keyboard.press('Enter')
    await expect
      .poll(async () => (await datasets()).find((d) => d.id === datasetId)?.trainCounts)
      .toEqual([PER_CLASS, PER_CLASS, PER_CLASS])

    // Each drawing is kept with its raw strokes (two for a cross) beside its 28x28 input.
    const log = readFileSync(join(server!.dataDir, 'datasets', datasetId, 'edits.jsonl'), 'utf8')
    const adds = log
      .trim()
      .split('\n')
      .slice(1)
      .map(
        (line) => JSON.parse(line) as { op: string; label?: string; ink?: { strokes: unknown[] } },
      )
      .filter((op) => op.op === 'add')
    expect(adds).toHaveLength(samples + 1)
    expect(adds.filter((op) => op.label === 'x').every((op) => op.ink?.strokes.length === 2)).toBe(
      true,
    )
    summary = (await datasets()).find((d) => d.id === datasetId)!
    expect(summary.trainSize).toBe(samples)
    await dismissToasts(page())
    await screenshot(page(), 'collect')
  })

  test('b. the drawn dataset is on Data like any other and trains directly', async () => {
    await byTestId('collect-train').click()
    await page().locator('#train-title').waitFor()
    await go('data')
    const item = byTestId('dataset-list').locator('li', { hasText: DATASET_NAME })
    expect(await item.textContent()).toMatch(/Drawn · 3 classes · 18 train/)
    expect(await byTestId('class-counts').locator('li').count()).toBe(3)
    await go('train')
    const epochs = EPOCHS_BY_BACKEND[backend] ?? 40
    await page().getByLabel('Run name (optional)').fill(RUN_NAME)
    await byTestId('epochs-input').fill(String(epochs))
    await byTestId('batch-size-input').fill('8')
    const started = performance.now()
    await byTestId('start-training').click()
    await trainingCompleted(120_000)
    metrics.training = { epochs, ms: Math.round(performance.now() - started) }
    const runs = await invoke<{ id: string; name: string; datasetId: string }[]>(
      server!,
      'runs.list',
    )
    parentRunId = runs.find((r) => r.name === RUN_NAME)!.id
    expect(runs.find((r) => r.id === parentRunId)?.datasetId).toBe(datasetId)
  })

  test('c. the pad reads new drawings of the three classes with the new model', async () => {
    await go('draw')
    await byTestId('mode-classify').click()
    await byTestId('model-select').selectOption(parentRunId)
    await page().getByRole('button', { name: 'Use this model' }).click()
    await expect.poll(() => byTestId('active-model').textContent()).toContain(RUN_NAME)
    const random = seededRandom(99)
    const read: Record<string, string> = {}
    for (const { key, shape } of CLASSES) {
      read[key] = await classify(sampleStrokes(shape, random))
      await byTestId('draw-clear').click()
    }
    expect(read, 'each new drawing is read as its class').toEqual({ o: 'o', l: 'l', x: 'x' })
  })

  test('d. a wrong prediction is added with the right label, and the fine-tuned model reads it right', async () => {
    const before = await classify(NARROW_CROSS)
    expect(before, 'the narrow cross is misread before the correction').not.toBe('x')
    await byTestId('correct-open').click()
    await byTestId('correct-label').fill('x')
    expect(await byTestId('correct-dataset').inputValue(), "the model's dataset by default").toBe(
      datasetId,
    )
    await byTestId('correct-add').click()
    await expect.poll(() => byTestId('correct-done').textContent()).toContain('as “x”')
    await expect
      .poll(async () => (await datasets()).find((d) => d.id === datasetId)?.trainCounts)
      .toEqual([PER_CLASS, PER_CLASS, PER_CLASS + 1])

    const started = performance.now()
    await byTestId('correct-fine-tune').click()
    await page().locator('#train-title').waitFor()
    await trainingCompleted(120_000)
    const ms = Math.round(performance.now() - started)
    const runs = await invoke<
      {
        id: string
        name: string
        fineTunedFrom?: { runId: string; evaluation?: { accuracy: number; split: string } }
        metrics?: { evaluation?: { accuracy: number } }
      }[]
    >(server!, 'runs.list')
    const tuned = runs.find((r) => r.fineTunedFrom?.runId === parentRunId)
    expect(tuned, 'the fine-tune is a new run that records its parent').toBeDefined()
    tunedRunId = tuned!.id
    metrics.fineTune = {
      ms,
      before: tuned!.fineTunedFrom?.evaluation?.accuracy,
      after: tuned!.metrics?.evaluation?.accuracy,
      split: tuned!.fineTunedFrom?.evaluation?.split,
    }

    // The fine-tuned model reads the same drawing as corrected.
    await go('draw')
    await byTestId('model-select').selectOption(tunedRunId)
    await page().getByRole('button', { name: 'Use this model' }).click()
    await expect.poll(() => byTestId('active-model').textContent()).toContain(tuned!.name)
    const after = await classify(NARROW_CROSS)
    console.log(`the narrow cross is read "${before}" before the fine-tune, "${after}" after`)
    expect(after, 'the correction took').toBe('x')
    await byTestId('draw-clear').click()

    // Models compares it with the run it started from.
    await go('models')
    const runsTable = byTestId('runs-table')
    await runsTable.getByRole('button', { name: `${RUN_NAME} · fine-tuned`, exact: true }).click()
    const comparison = byTestId('fine-tune-comparison')
    await comparison.waitFor()
    expect(await comparison.locator('h2').textContent()).toContain(`Fine-tuned from ${RUN_NAME}`)
    expect(await byTestId('fine-tune-accuracy').textContent()).toMatch(/%.*%.*pts/)
    expect(await byTestId('compare-select').inputValue(), 'its charts overlay the parent').toBe(
      parentRunId,
    )
    await dismissToasts(page())
    await screenshot(page(), 'models-fine-tuned')
  })

  test('e. exports the fine-tuned model to .h5 and .onnx; both read back with InkLab’s predictions', async () => {
    const destination = join(RESULTS_DIR, 'e2e-collect-export')
    rmSync(destination, { recursive: true, force: true })
    const card = page().locator('.export-card')
    await card.locator('input.mono').fill(destination)
    await card.getByRole('button', { name: 'Export', exact: true }).click()
    const files = byTestId('export-files')
    await files.waitFor({ state: 'visible', timeout: 60_000 })
    const folder = (await files.locator('.mono').first().textContent())!.trim()
    for (const file of ['model.h5', 'model.onnx', 'model/model.json']) {
      expect(existsSync(join(folder, file)), file).toBe(true)
    }
    // The drawings themselves (the 28x28 inputs they were saved as) are the test images.
    const samples = await invoke<{ pixels: string }[]>(server!, 'dataset.samples', {
      datasetId,
      count: 50,
    })
    const images = samples.map((s) => new Uint8Array(Buffer.from(s.pixels, 'base64')))
    const packed = new Uint8Array(images.length * 784)
    images.forEach((image, i) => packed.set(image, i * 784))
    const input = Float32Array.from(packed, (v) => v / 255)

    const { model } = await loadModel(join(folder, 'model'))
    const expected = predictProbabilities(model, packed, images.length)
    model.dispose()
    const h5 = await predictFromKerasFile(join(folder, 'model.h5'), input)
    const onnx = await predictWithOnnxRuntime(join(folder, 'model.onnx'), input)
    metrics.export = {
      samples: images.length,
      h5MaxDiff: maxAbsDifference(h5, expected),
      onnxMaxDiff: maxAbsDifference(onnx, expected),
    }
    expect(metrics.export.h5MaxDiff).toBeLessThan(TOLERANCE)
    expect(metrics.export.onnxMaxDiff).toBeLessThan(TOLERANCE)
    // The app's own answer for a drawing is the exported model's.
    const argmax = (p: Float32Array, i: number) => {
      const row = Array.from(p.subarray(i * 3, i * 3 + 3))
      return row.indexOf(Math.max(...row))
    }
    for (let i = 0; i < images.length; i++) expect(argmax(onnx, i)).toBe(argmax(expected, i))
    expect(tunedRunId).not.toBe('')
  })

  test('f. the new controls fit 1024x700 and 1280x800, light and dark', async () => {
    const found: string[] = []
    for (const viewport of [
      { width: 1024, height: 700 },
      { width: 1280, height: 800 },
    ]) {
      for (const colorScheme of ['light', 'dark'] as const) {
        await page().setViewportSize(viewport)
        await page().emulateMedia({ colorScheme })
        const where = `${viewport.width}x${viewport.height} ${colorScheme}`
        await go('draw')
        await byTestId('mode-collect').click()
        await byTestId('collect-counts').waitFor()
        found.push(
          ...(await page().evaluate<string[]>(LAYOUT_PROBLEMS)).map(
            (p) => `${where} collect: ${p}`,
          ),
        )
        await screenshot(page(), `layout/${viewport.width}-${colorScheme}-collect`)
        await byTestId('mode-classify').click()
        await drawStrokes(page(), await padBox(), sampleStrokes('circle', seededRandom(5)), null)
        await byTestId('correct-open').click()
        found.push(
          ...(await page().evaluate<string[]>(LAYOUT_PROBLEMS)).map(
            (p) => `${where} correct: ${p}`,
          ),
        )
        await screenshot(page(), `layout/${viewport.width}-${colorScheme}-correct`)
        await byTestId('draw-clear').click()
        await go('models')
        await byTestId('fine-tune-comparison').waitFor()
        found.push(
          ...[
            ...(await page().evaluate<string[]>(LAYOUT_PROBLEMS)),
            ...(await page().evaluate<string[]>(MODELS_TABLE_PROBLEMS)),
          ].map((p) => `${where} models: ${p}`),
        )
        ensureDir(join(SCREENSHOTS_DIR, 'layout'))
        await screenshot(page(), `layout/${viewport.width}-${colorScheme}-fine-tune`)
      }
    }
    await page().setViewportSize({ width: 1280, height: 800 })
    await page().emulateMedia({ colorScheme: 'light' })
    expect(found, 'layout problems').toEqual([])
  })
})
