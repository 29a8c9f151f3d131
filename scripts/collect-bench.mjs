#!/usr/bin/env node
// The figures of issue 10, measured through the real UI (serve mode in Chromium, real mouse
// events): how long a keyboard user takes to collect CLASSES x PER_CLASS digits on the pad (key,
// draw at a person's pace, Enter), the training on them, how a fine-tune on corrected drawings
// changes accuracy on held-out drawings of another hand, and the export round trip of the
// fine-tuned model (onnxruntime-node here; Keras through scripts/export-roundtrip.py when
// --keras-python names a Python with keras and onnxruntime).
//
//   node scripts/collect-bench.mjs [--classes 10] [--per-class 20] [--epochs 30]
//     [--held-out 10] [--pool 5] [--pace human|brisk] [--keras-python PYTHON] [--out DIR]
//     [--fine-tune-epochs N] [--fine-tune-learning-rate R] [--seed S]
//
// --seed S (1 by default: the figures in the README) draws every set of drawings anew
// (`benchRandom`) and moves the training seed by S - 1; test/bench/fineTune.measure.ts repeats the
// same story without a browser over many seeds, far quicker.
//
// Needs the built app (`npm install` builds it) and Chromium (CHROMIUM_PATH, by default
// /usr/bin/chromium). Writes its figures to OUT/collect-bench.json (test-results/collect-bench).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import * as ort from 'onnxruntime-node'
import { chromium } from 'playwright-core'
import sharp from 'sharp'

import {
  benchRandom,
  BRISK_PACE,
  drawStrokes,
  FIRST_HAND,
  HUMAN_PACE,
  sampleStrokes,
  SECOND_HAND,
} from './lib/padInk.mjs'
import { invoke, REPO_ROOT, startServe } from './lib/serve.mjs'

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']
const DATASET = 'bench digits'
const RUN = 'bench digits'

const { values } = parseArgs({
  options: {
    classes: { type: 'string', default: '10' },
    'per-class': { type: 'string', default: '20' },
    epochs: { type: 'string', default: '30' },
    'batch-size': { type: 'string', default: '16' },
    'held-out': { type: 'string', default: '10' },
    pool: { type: 'string', default: '5' },
    pace: { type: 'string', default: 'human' },
    'fine-tune-epochs': { type: 'string' },
    'fine-tune-learning-rate': { type: 'string' },
    'keras-python': { type: 'string' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join(REPO_ROOT, 'test-results', 'collect-bench') },
  },
})
const count = (name, min, max) => {
  const n = Number(values[name])
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`collect-bench: --${name} must be a whole number from ${min} to ${max}`)
    process.exit(2)
  }
  return n
}
const CLASSES = count('classes', 2, 10)
// Fewer than 5 per class is too small to train with the default validation split.
const PER_CLASS = count('per-class', 5, 500)
const EPOCHS = count('epochs', 1, 500)
const BATCH = count('batch-size', 1, 512)
const HELD_OUT = count('held-out', 1, 100)
const POOL = count('pool', 0, 100)
const SEED = count('seed', 1, 1_000_000)
const OUT = resolve(values.out)
/** `human`: a person's pace with a mouse (the collection figure); `brisk`: 3x, for the others. */
const PACES = {
  human: HUMAN_PACE,
  brisk: BRISK_PACE,
}
const PACE = PACES[values.pace]
if (!PACE) {
  console.error('collect-bench: --pace is human or brisk')
  process.exit(2)
}
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

if (!existsSync(join(REPO_ROOT, 'out/main/cli.js'))) {
  console.error('collect-bench: the app is not built: run `npx electron-vite build` first')
  process.exit(2)
}
rmSync(OUT, { recursive: true, force: true })
mkdirSync(join(OUT, 'images'), { recursive: true })

const classes = DIGITS.slice(0, CLASSES).map((shape, i) => ({ key: String(i), shape }))
const figures = {
  date: new Date().toISOString(),
  seed: SEED,
  classes: CLASSES,
  perClass: PER_CLASS,
}
const log = (line) => console.log(`collect-bench: ${line}`)
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`

const server = await startServe()
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
})
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  page.setDefaultTimeout(30_000)
  const byTestId = (id) => page.getByTestId(id)
  const go = async (view) => {
    await byTestId(`nav-${view}`).click()
    await page.locator(`#${view}-title`).waitFor()
  }
  const padBox = async () => {
    const box = await byTestId('draw-pad').boundingBox()
    if (!box) throw new Error('the pad is not on screen')
    return box
  }
  const untilText = async (locator, test, timeout = 30_000) => {
    const end = Date.now() + timeout
    for (;;) {
      const text = (await locator.textContent().catch(() => null)) ?? ''
      if (test(text)) return text
      if (Date.now() > end) throw new Error(`timed out; last text: ${text}`)
      await page.waitForTimeout(50)
    }
  }
  const trainingEnds = async () => {
    const final = byTestId('train-final-state')
    await final.waitFor({ state: 'visible', timeout: 30 * 60_000 })
    const text = (await final.textContent()) ?? ''
    if (!/Training completed/.test(text)) throw new Error(`the run did not complete: ${text}`)
  }
  await page.goto(server.url)
  await byTestId('nav-draw').waitFor()

  // 1. Collect, as a keyboard user: the label's key, draw at a person's pace, Enter.
  await go('draw')
  await byTestId('mode-collect').click()
  await byTestId('collect-new-name').fill(DATASET)
  await byTestId('collect-create').click()
  await byTestId('collect-label').waitFor()
  const status = byTestId('collect-status')
  const random = benchRandom('collect', SEED)
  const perSample = []
  const started = performance.now()
  for (const { key, shape } of classes) {
    await page.locator('#draw-title').click()
    await page.keyboard.press(key)
    for (let i = 1; i <= PER_CLASS; i++) {
      const at = performance.now()
      await drawStrokes(page, await padBox(), sampleStrokes(shape, random), PACE)
      await page.keyboard.press('Enter')
      await untilText(status, (t) => t.includes(`Saved “${key}”: ${i} of`))
      perSample.push(performance.now() - at)
    }
    log(`class ${key}: ${PER_CLASS} drawings saved`)
  }
  const collectMs = performance.now() - started
  const sorted = [...perSample].sort((a, b) => a - b)
  figures.collect = {
    samples: perSample.length,
    ms: Math.round(collectMs),
    msPerSampleMean: Math.round(collectMs / perSample.length),
    msPerSampleMedian: Math.round(sorted[Math.floor(sorted.length / 2)]),
    pace: values.pace,
    ...PACE,
  }
  const dataset = (await invoke(server, 'dataset.list')).find((d) => d.name === DATASET)
  log(
    `collected ${perSample.length} drawings in ${seconds(collectMs)} (counts ${dataset.trainCounts})`,
  )

  // 2. Train on them from the Collect panel.
  await byTestId('collect-train').click()
  await page.locator('#train-title').waitFor()
  await page.getByLabel('Run name (optional)').fill(RUN)
  await byTestId('epochs-input').fill(String(EPOCHS))
  await byTestId('batch-size-input').fill(String(BATCH))
  if (SEED > 1) {
    const seedField = page.getByLabel('Seed', { exact: true })
    await seedField.fill(String(Number(await seedField.inputValue()) + SEED - 1))
  }
  const trainStarted = performance.now()
  await byTestId('start-training').click()
  await trainingEnds()
  const trainMs = Math.round(performance.now() - trainStarted)
  const parent = (await invoke(server, 'runs.list')).find((r) => r.name === RUN)
  const parentConfig = (await invoke(server, 'runs.get', { runId: parent.id })).config
  figures.training = {
    preset: parentConfig.preset,
    epochs: EPOCHS,
    batchSize: BATCH,
    ms: trainMs,
  }
  figures.backend = (await invoke(server, 'app.info')).backend?.name
  log(`trained "${RUN}" (${EPOCHS} epochs, ${figures.backend}) in ${seconds(figures.training.ms)}`)

  // 3. New drawings on the pad with that model. The images the pad sends are kept to read them
  //    again with each model (the held-out sets); misread drawings of the pool are corrected.
  await go('draw')
  await byTestId('mode-classify').click()
  await byTestId('model-select').selectOption(parent.id)
  await page.getByRole('button', { name: 'Use this model' }).click()
  await untilText(byTestId('active-model'), (t) => t.includes(RUN))
  let lastImage = null
  page.on('request', (request) => {
    if (!request.url().endsWith('/api/invoke')) return
    const body = request.postDataJSON()
    if (body?.name === 'draw.classify') lastImage = body.input
  })
  const drawAndRead = async (strokes) => {
    lastImage = null
    await drawStrokes(page, await padBox(), strokes, null)
    await byTestId('prediction-top').waitFor({ state: 'visible' })
    // Live answers arrive while drawing; the one after the last stroke wins.
    await page.waitForTimeout(500)
    const label = ((await byTestId('prediction-top').textContent()) ?? '').trim().split(' ')[0]
    return { label, image: lastImage }
  }
  const heldOut = { secondHand: [], firstHand: [] }
  for (const [set, hand] of [
    ['secondHand', SECOND_HAND],
    ['firstHand', FIRST_HAND],
  ]) {
    const r = benchRandom(set, SEED)
    for (const { key, shape } of classes) {
      for (let i = 0; i < HELD_OUT; i++) {
        const { image } = await drawAndRead(sampleStrokes(shape, r, 280, hand))
        heldOut[set].push({ key, image })
        await byTestId('draw-clear').click()
      }
    }
  }
  const poolRandom = benchRandom('pool', SEED)
  let corrected = 0
  for (const { key, shape } of classes) {
    for (let i = 0; i < POOL; i++) {
      const { label } = await drawAndRead(sampleStrokes(shape, poolRandom, 280, SECOND_HAND))
      if (label !== key) {
        await byTestId('correct-open').click()
        await byTestId('correct-label').fill(key)
        await byTestId('correct-add').click()
        await untilText(byTestId('correct-done'), (t) => t.includes(`as “${key}”`))
        corrected++
      }
      await byTestId('draw-clear').click()
    }
  }
  log(`${corrected} of ${POOL * CLASSES} drawings of another hand were misread and corrected`)

  // 4. Fine-tune from Models (the short schedule it proposes), timed to the run's end.
  await go('models')
  await byTestId('runs-table').getByRole('button', { name: RUN, exact: true }).click()
  await byTestId('fine-tune-card').waitFor()
  // The short schedule the card proposes, unless asked otherwise.
  if (values['fine-tune-epochs']) {
    await byTestId('fine-tune-epochs').fill(values['fine-tune-epochs'])
  }
  if (values['fine-tune-learning-rate']) {
    await byTestId('fine-tune-learning-rate').fill(values['fine-tune-learning-rate'])
  }
  const fineTuneStarted = performance.now()
  await byTestId('fine-tune-start').click()
  await page.locator('#train-title').waitFor()
  await trainingEnds()
  const fineTuneMs = performance.now() - fineTuneStarted
  const tuned = (await invoke(server, 'runs.list')).find(
    (r) => r.fineTunedFrom?.runId === parent.id,
  )

  // 5. Both models read the same held-out images the pad sent (the pad's own path).
  const accuracy = {}
  for (const run of [parent, tuned]) {
    await invoke(server, 'models.activate', { runId: run.id })
    for (const [set, items] of Object.entries(heldOut)) {
      let right = 0
      for (const { key, image } of items) {
        const { prediction } = await invoke(server, 'draw.classify', image)
        if (prediction?.label === key) right++
      }
      ;(accuracy[set] ??= {})[run.id === parent.id ? 'before' : 'after'] = right / items.length
    }
  }
  const { config } = await invoke(server, 'runs.get', { runId: tuned.id })
  figures.fineTune = {
    corrected,
    pool: POOL * CLASSES,
    epochs: config.epochs,
    learningRate: config.learningRate,
    ms: Math.round(fineTuneMs),
    heldOutPerSet: HELD_OUT * CLASSES,
    accuracy,
  }
  log(`fine-tuned in ${seconds(fineTuneMs)}: ${JSON.stringify(accuracy)}`)

  // 6. Export the fine-tuned model; read it back with onnxruntime-node (and Keras, if asked).
  const exported = await invoke(server, 'runs.export', {
    runId: tuned.id,
    destination: join(OUT, 'export'),
    formats: ['keras', 'onnx', 'tfjs'],
  })
  const files = []
  for (const [i, { key, image }] of heldOut.secondHand.entries()) {
    const file = join(OUT, 'images', `${String(i).padStart(4, '0')}-${key}.png`)
    const raw = Buffer.from(image.data, 'base64')
    await sharp(raw, { raw: { width: image.width, height: image.height, channels: 1 } })
      .png()
      .toFile(file)
    files.push(file)
  }
  const modelDir = join(server.dataDir, 'runs', tuned.id, 'model')
  const predicted = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'bin/inklab.mjs'), 'predict', '--model', modelDir, '--json', ...files],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  )
  if (predicted.status !== 0) throw new Error(`inklab predict failed:\n${predicted.stderr}`)
  const { predictions } = JSON.parse(predicted.stdout.trim().split('\n').at(-1))
  const n = predictions.length
  const labels = predictions[0].probabilities.length
  const input = new Float32Array(n * 784)
  predictions.forEach((p, i) =>
    input.set(
      Float32Array.from(Buffer.from(p.input, 'base64'), (v) => v / 255),
      i * 784,
    ),
  )
  const onnxFile = join(exported.path, 'model.onnx')
  const session = await ort.InferenceSession.create(onnxFile)
  const output = await session.run({ input: new ort.Tensor('float32', input, [n, 28, 28, 1]) })
  const byOnnx = output[session.outputNames[0]].data
  let onnxMaxDiff = 0
  let sameLabels = 0
  for (let i = 0; i < n; i++) {
    const ours = predictions[i].probabilities
    const row = Array.from(byOnnx.subarray(i * labels, (i + 1) * labels))
    for (let j = 0; j < labels; j++) onnxMaxDiff = Math.max(onnxMaxDiff, Math.abs(ours[j] - row[j]))
    if (row.indexOf(Math.max(...row)) === ours.indexOf(Math.max(...ours))) sameLabels++
  }
  figures.export = { files: exported.files, images: n, onnxMaxDiff, onnxSameLabels: sameLabels / n }
  log(`export: ${n} drawings, max |InkLab - onnxruntime-node| ${onnxMaxDiff.toExponential(2)}`)
  if (values['keras-python']) {
    const args = [
      'scripts/export-roundtrip.py',
      '--model',
      modelDir,
      '--images',
      join(OUT, 'images'),
    ]
    log(`${values['keras-python']} ${args.join(' ')}`)
    const keras = spawnSync(values['keras-python'], args, { cwd: REPO_ROOT, encoding: 'utf8' })
    process.stdout.write(keras.stdout)
    if (keras.status !== 0) throw new Error(`export-roundtrip.py failed:\n${keras.stderr}`)
    const diff = /max \|InkLab - Keras\| (\S+)/.exec(keras.stdout)
    figures.export.kerasMaxDiff = diff ? Number(diff[1]) : null
  }
} finally {
  writeFileSync(join(OUT, 'collect-bench.json'), `${JSON.stringify(figures, null, 2)}\n`)
  console.log(JSON.stringify(figures, null, 2))
  await browser.close()
  await server.stop()
}
