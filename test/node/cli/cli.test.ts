import { execFile, execFileSync, spawn } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import * as ort from 'onnxruntime-node'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { loadBuiltinMnist } from '@engine/data'

import { ensureBuilt } from '../helpers/build'

const ROOT = resolve(__dirname, '../../..')
const BIN = join(ROOT, 'bin', 'inklab.mjs')

interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the real `inklab` command the way a user does. */
function inklab(
  args: string[],
  timeoutMs = 240_000,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: ROOT,
        timeout: timeoutMs,
        maxBuffer: 32 * 1024 * 1024,
        env: { ...process.env, INKLAB_DEBUG: '', ...env },
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0
        done({ code, stdout, stderr })
      },
    )
  })
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>
}

function expectOneLineError(r: CliResult, pattern: RegExp): void {
  const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('inklab: error:'))
  expect(errorLines).toHaveLength(1)
  expect(errorLines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m) // never a stack trace
}

const work = mkdtempSync(join(tmpdir(), 'inklab-cli-'))
const modelDir = join(work, 'model')

beforeAll(async () => {
  await ensureBuilt()
}, 300_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('inklab realink and train-bundled', () => {
  it('reads held-out pen digits per writer with the bundled model', async () => {
    const r = await inklab(['realink', '--per-writer', '3', '--rendering', 'pad', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const json = lastJson(r.stdout) as {
      writers: string
      subjects: { results: { rendering: string; writers: { writer: string; count: number }[] }[] }[]
    }
    expect(json.writers).toBe('held-out')
    const [pad] = json.subjects[0]!.results
    expect(pad!.rendering).toBe('pad')
    expect(pad!.writers.map((w) => w.writer)).toEqual(
      [3, 6, 9, 12, 15, 18, 21, 24, 27, 30].map((n) => `pendigits:${n}`),
    )
    expect(pad!.writers.every((w) => w.count === 3)).toBe(true)
  })

  it('says where the pen data should be when it is missing, and what a set needs', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'inklab-nodata-'))
    const missing = await inklab(['realink', '--per-writer', '1'], 60_000, {
      INKLAB_DATASETS: empty,
    })
    rmSync(empty, { recursive: true })
    expect(missing.code).toBe(1)
    expectOneLineError(missing, /pendigits-orig\.tra: cannot read the pendigits file/)
    const letters = await inklab(['realink', '--set', 'letters'])
    expect(letters.code).toBe(2)
    expectOneLineError(letters, /--set letters needs --model DIR or --train-preset P/)
    const out = await inklab(['train-bundled'])
    expect(out.code).toBe(2)
    expectOneLineError(out, /--out is required/)
  })
})

describe('inklab CLI: arguments and errors', () => {
  it('prints usage with --help and exits 0', async () => {
    const r = await inklab(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/inklab train --dataset/)
    expect(r.stdout).toMatch(/inklab predict --model DIR FILE/)
  })

  it('rejects an unknown command with exit code 2', async () => {
    const r = await inklab(['fly'])
    expect(r.code).toBe(2)
    expectOneLineError(r, /unknown command "fly"/)
  })

  it('names a missing required option', async () => {
    const r = await inklab(['train', '--dataset', 'mnist'])
    expect(r.code).toBe(2)
    expectOneLineError(r, /--out is required/)
  })

  it('names a bad number and an unknown flag', async () => {
    const bad = await inklab(['train', '--dataset', 'mnist', '--out', work, '--epochs', 'lots'])
    expect(bad.code).toBe(2)
    expectOneLineError(bad, /--epochs must be a whole number, got "lots"/)
    const ema = await inklab(['train', '--dataset', 'mnist', '--out', work, '--ema', '1'])
    expect(ema.code).toBe(2)
    expectOneLineError(ema, /--ema .*0\.9999/)
    const members = await inklab(['train', '--dataset', 'mnist', '--out', work, '--members', '11'])
    expect(members.code).toBe(2)
    expectOneLineError(members, /--members .*between 1 and 10/)
    const unknown = await inklab(['eval', '--modle', 'x'])
    expect(unknown.code).toBe(2)
    expectOneLineError(unknown, /--modle/)
  })

  it('names a dataset folder that does not exist', async () => {
    const missing = join(work, 'no-such-folder')
    const r = await inklab([
      'train',
      '--dataset',
      missing,
      '--out',
      join(work, 'x'),
      '--epochs',
      '1',
    ])
    expect(r.code).toBe(1)
    expectOneLineError(r, /no-such-folder/)
  })

  it('names a corrupt IDX file', async () => {
    const dir = join(work, 'bad-idx')
    mkdirSync(dir)
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0, 0, 9]))
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 9]))
    const r = await inklab(['train', '--dataset', dir, '--out', join(work, 'y'), '--epochs', '1'])
    expect(r.code).toBe(1)
    expectOneLineError(r, /train-(images|labels)-idx[13]-ubyte/)
  })

  it('refuses a custom architecture that does not fit 28x28 input, naming the layer', async () => {
    const file = join(work, 'too-deep.json')
    const conv = { type: 'conv2d', filters: 8, kernelSize: 5 }
    writeFileSync(
      file,
      JSON.stringify({ layers: [conv, conv, conv, conv, conv, conv, conv, { type: 'flatten' }] }),
    )
    const r = await inklab([
      'train',
      '--dataset',
      'mnist',
      '--architecture',
      file,
      '--out',
      join(work, 'z'),
    ])
    expect(r.code).toBe(2)
    expectOneLineError(r, /invalid architecture: layer \d+ \(conv2d/)
    const notJson = join(work, 'arch.txt')
    writeFileSync(notJson, 'layers: conv')
    const r2 = await inklab([
      'train',
      '--dataset',
      'mnist',
      '--architecture',
      notJson,
      '--out',
      join(work, 'z'),
    ])
    expect(r2.code).toBe(2)
    expectOneLineError(r2, /arch\.txt/)
  })

  it('trains a custom architecture described as data', async () => {
    const file = join(work, 'tiny.json')
    writeFileSync(
      file,
      JSON.stringify({
        layers: [
          { type: 'conv2d', filters: 8, kernelSize: 3, strides: 2, padding: 'same' },
          { type: 'flatten' },
          { type: 'dense', units: 32 },
        ],
      }),
    )
    const out = join(work, 'tiny-model')
    const r = await inklab([
      'train',
      '--dataset',
      'mnist',
      '--architecture',
      file,
      '--epochs',
      '1',
      '--limit',
      '2000',
      '--batch-size',
      '32',
      '--ema',
      '0.99',
      '--members',
      '2',
      '--out',
      out,
      '--json',
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).toContain('weight average (decay 0.99)')
    expect(r.stdout + r.stderr).toContain('2 networks trained in turn and averaged')
    expect(r.stdout + r.stderr).toMatch(/network 2\/2 epoch 1\/1: loss/)
    expect(lastJson(r.stdout).testAccuracy).toBeGreaterThan(0.8)
    const metadata = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'))
    expect(metadata.preset).toBe('custom')
    expect(metadata.architecture.layers).toHaveLength(3)
    expect(metadata.members).toBe(2)
  })

  it.runIf(process.platform !== 'win32')(
    'predict refuses a FIFO named like an image instead of waiting on it forever',
    async () => {
      const fifo = join(work, 'pipe.png')
      execFileSync('mkfifo', [fifo])
      const r = await inklab(
        ['predict', '--model', join(ROOT, 'resources/models/mnist'), fifo, '--json'],
        60_000,
      )
      expect(r.code).toBe(1)
      expectOneLineError(r, /pipe\.png: is a named pipe \(FIFO\), not a regular file/)
    },
  )

  it('serve refuses a --data-dir under a file before it prints an address', async () => {
    writeFileSync(join(work, 'plain-file'), 'x')
    const r = await inklab(['serve', '--data-dir', join(work, 'plain-file', 'data')], 60_000)
    expect(r.code).toBe(1)
    expect(r.stdout).not.toMatch(/serving at/)
    expectOneLineError(r, /^inklab: error: --data-dir .*plain-file: is a file, not a folder$/)
  })

  it('reports which backends load, with the reason native does not', async () => {
    const r = await inklab(['backends', '--json'])
    expect(r.code).toBe(0)
    const { backends } = lastJson(r.stdout) as {
      backends: Array<{ name: string; available: boolean; reason?: string }>
    }
    const wasm = backends.find((b) => b.name === 'wasm')
    const native = backends.find((b) => b.name === 'native')
    expect(wasm?.available).toBe(true)
    expect(native).toBeDefined()
    if (!native?.available) expect(native?.reason).toMatch(/tfjs-node|libtensorflow/)
    else
      expect(native).toMatchObject({ detail: expect.stringMatching(/^libtensorflow [\d.]+ CPU, /) })
  })

  it('native: refuses an unknown subcommand, and --auto never fails an npm install', async () => {
    const usage = await inklab(['native', 'setup'])
    expect(usage.code).toBe(2)
    expectOneLineError(usage, /native: expected "install" or "verify", got "setup"/)
    const skipped = await new Promise<CliResult>((done) => {
      execFile(
        process.execPath,
        [BIN, 'native', 'install', '--auto', '--json'],
        { cwd: ROOT, env: { ...process.env, INKLAB_SKIP_NATIVE: '1', INKLAB_REQUIRE_NATIVE: '' } },
        (error, stdout, stderr) => done({ code: error ? 1 : 0, stdout, stderr }),
      )
    })
    expect(skipped.code).toBe(0)
    expect(skipped.stderr).toMatch(
      /native: skipped \(INKLAB_SKIP_NATIVE=1\); training will use WebAssembly/,
    )
    expect(lastJson(skipped.stdout)).toEqual({ ok: false, reason: 'skipped' })
  })

  it('native verify: says whether native TensorFlow loads and trains here', async () => {
    const r = await inklab(['native', 'verify', '--json'])
    const result = lastJson(r.stdout)
    if (r.code === 0) {
      expect(result).toMatchObject({ ok: true, detail: expect.stringMatching(/^libtensorflow /) })
      expect(result.lossAfter as number).toBeLessThan(result.lossBefore as number)
    } else {
      expect(r.code).toBe(1)
      expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/tfjs-node|native/) })
      expectOneLineError(r, /tfjs-node|native/)
    }
  })
})

describe('inklab CLI: train, eval and predict on real MNIST', () => {
  let trained: Record<string, unknown>

  it('trains the fast preset on a 6,000-image MNIST subset and writes a model folder', async () => {
    const r = await inklab([
      'train',
      '--dataset',
      'mnist',
      '--preset',
      'fast',
      '--epochs',
      '2',
      '--limit',
      '6000',
      '--batch-size',
      '64',
      '--out',
      modelDir,
      '--json',
    ])
    expect(r.stderr).toMatch(/^backend: /m)
    expect(r.code, r.stderr).toBe(0)
    trained = lastJson(r.stdout)
    expect(trained.testAccuracy).toBeGreaterThan(0.9)
    expect(trained.evaluation).toMatchObject({ split: 'test', count: 10_000 })
    expect(trained.testLoss).toBeGreaterThan(0)
    expect(trained.seconds).toBeGreaterThan(0)
    expect(trained.samplesPerSecond).toBeGreaterThan(0)
    expect(['native', 'wasm']).toContain(trained.backend)
    // On native each training step runs as one TensorFlow graph, and the result says so.
    expect(trained.step).toBe(trained.backend === 'native' ? 'graph' : 'eager')
    for (const f of ['model.json', 'weights.bin', 'metadata.json']) {
      expect(existsSync(join(modelDir, f))).toBe(true)
    }
    const metadata = JSON.parse(readFileSync(join(modelDir, 'metadata.json'), 'utf8'))
    expect(metadata.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(metadata.preset).toBe('fast')
    expect(metadata.metrics.testAccuracy).toBeCloseTo(trained.testAccuracy as number, 6)
  })

  it('holds out a test split of a folder; testAccuracy is only ever held-out data', async () => {
    const dir = join(work, 'shapes')
    const shape = (svg: string) =>
      sharp({ create: { width: 40, height: 40, channels: 3, background: '#fff' } })
        .composite([{ input: Buffer.from(`<svg width="40" height="40">${svg}</svg>`) }])
        .png()
        .toBuffer()
    for (const [label, svg] of [
      ['ring', '<circle cx="20" cy="20" r="12" fill="none" stroke="black" stroke-width="4"/>'],
      ['bar', '<rect x="17" y="6" width="6" height="28" fill="black"/>'],
    ] as const) {
      mkdirSync(join(dir, label), { recursive: true })
      const png = await shape(svg)
      for (let i = 0; i < 20; i++) writeFileSync(join(dir, label, `${i}.png`), png)
    }
    const train = (out: string, ...extra: string[]) =>
      inklab([
        'train',
        '--dataset',
        dir,
        '--preset',
        'fast',
        '--epochs',
        '1',
        '--validation-split',
        '0.25',
        '--out',
        out,
        '--json',
        ...extra,
      ])

    // By default 15% of each class (3 of 20) is held out, and the model is judged on it.
    const out = join(work, 'shapes-model')
    const r = await train(out)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/34 training and 6 held-out test images/)
    const json = lastJson(r.stdout)
    expect(json.evaluation).toMatchObject({ split: 'test', count: 6 })
    expect(json.testAccuracy).toBe((json.evaluation as { accuracy: number }).accuracy)
    // `inklab eval` holds out the very same images.
    const evaluated = await inklab(['eval', '--model', out, '--dataset', dir, '--json'])
    expect(evaluated.code, evaluated.stderr).toBe(0)
    const evalJson = lastJson(evaluated.stdout)
    expect(evalJson.evaluation).toMatchObject({ split: 'test', count: 6 })
    expect(evalJson.testAccuracy).toBe(json.testAccuracy)
    expect(evaluated.stderr).not.toMatch(/note:/)
    expect(evalJson.tta).toBe(false)
    // --tta reads each image at the pad's four stroke widths, and says so.
    const withTta = await inklab(['eval', '--model', out, '--dataset', dir, '--tta', '--json'])
    expect(withTta.code, withTta.stderr).toBe(0)
    expect(lastJson(withTta.stdout)).toMatchObject({ tta: true, evaluation: { count: 6 } })
    const ttaText = await inklab(['eval', '--model', out, '--dataset', dir, '--tta'])
    expect(ttaText.stdout).toMatch(/on 6 images, each read at four stroke widths \(--tta\)/)
    // A bigger test split than the model held out is flagged.
    const bigger = await inklab(['eval', '--model', out, '--dataset', dir, '--test-split', '0.4'])
    expect(bigger.stdout).toMatch(/^held-out test accuracy [\d.]+%, loss [\d.]+ on 16 images$/m)
    expect(bigger.stderr).toMatch(/the model held out 6 test images .* this test split has 16/)

    // Without a test split: the validation split, named so, and never a test accuracy.
    const noTest = join(work, 'shapes-model-no-test')
    const r2 = await train(noTest, '--test-split', '0')
    expect(r2.code, r2.stderr).toBe(0)
    const json2 = lastJson(r2.stdout)
    expect(json2.testAccuracy).toBeUndefined()
    expect(json2.evaluation).toMatchObject({ split: 'validation', count: 10 })
    const metadata = JSON.parse(readFileSync(join(noTest, 'metadata.json'), 'utf8'))
    expect(metadata.metrics.testAccuracy).toBeUndefined()
    expect(metadata.metrics.evaluation.split).toBe('validation')
    const all = await inklab([
      'eval',
      '--model',
      noTest,
      '--dataset',
      dir,
      '--test-split',
      '0',
      '--json',
    ])
    expect(all.code, all.stderr).toBe(0)
    expect(lastJson(all.stdout).testAccuracy).toBeUndefined()
    expect(lastJson(all.stdout).evaluation).toMatchObject({ split: 'train', count: 40 })

    const misuse = await inklab([
      'eval',
      '--model',
      out,
      '--dataset',
      'mnist',
      '--test-split',
      '0.2',
    ])
    expectOneLineError(misuse, /--test-split and --test-dir apply to image folders only/)
  })

  it('evaluates the saved model to the same test accuracy', async () => {
    const r = await inklab(['eval', '--model', modelDir, '--dataset', 'mnist', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const evaluated = lastJson(r.stdout)
    expect(evaluated.testAccuracy).toBeCloseTo(trained.testAccuracy as number, 6)
    expect((evaluated.confusion as number[][]).flat().reduce((a, b) => a + b, 0)).toBe(10_000)
  })

  it('classifies image files of any size and polarity, and names a corrupt one', async () => {
    const mnist = await loadBuiltinMnist()
    const files: Array<{ file: string; label: string }> = []
    for (let i = 0; i < 10; i++) {
      const label = mnist.test!.labels[i]
      const raw = Buffer.from(mnist.test!.images.subarray(i * 784, (i + 1) * 784))
      const ink = i % 2 === 0 ? raw : Buffer.from(raw.map((v) => 255 - v)) // half black-on-white
      const file = join(work, `digit-${i}.${i % 3 === 0 ? 'jpg' : 'png'}`)
      await sharp(ink, { raw: { width: 28, height: 28, channels: 1 } })
        .resize(28 * (3 + (i % 4)), 28 * (3 + (i % 4)), { kernel: 'lanczos3' })
        .toFile(file)
      files.push({ file, label: String(label) })
    }
    const corrupt = join(work, 'corrupt.png')
    writeFileSync(corrupt, Buffer.from('not really a png'))
    const r = await inklab([
      'predict',
      '--model',
      modelDir,
      ...files.map((f) => f.file),
      corrupt,
      '--json',
    ])
    expect(r.code).toBe(1) // one file was bad
    expectOneLineError(r, /corrupt\.png/)
    const { predictions } = lastJson(r.stdout) as {
      predictions: Array<{
        file: string
        label: string
        confidence: number
        top: Array<{ label: string; p: number }>
        probabilities: number[]
        input: string
      }>
    }
    expect(predictions).toHaveLength(10)
    for (const p of predictions) {
      expect(p.top).toHaveLength(3)
      expect(p.top[0].label).toBe(p.label)
      expect(p.confidence).toBeCloseTo(p.top[0].p, 6)
      // The whole softmax and the 28x28 input the model saw, to check exports against.
      expect(p.probabilities).toHaveLength(10)
      expect(p.probabilities[Number(p.label)]).toBe(p.confidence)
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
      expect(Buffer.from(p.input, 'base64')).toHaveLength(784)
    }
    const correct = predictions.filter((p, i) => p.label === files[i].label).length
    expect(correct).toBeGreaterThanOrEqual(8)
  })
})

describe('inklab CLI: a crash during training', () => {
  it('leaves the best checkpoint at --out, ready to evaluate', async () => {
    const out = join(work, 'killed-run')
    const child = spawn(
      process.execPath,
      [
        BIN,
        'train',
        '--dataset',
        'mnist',
        '--preset',
        'fast',
        '--epochs',
        '20',
        '--limit',
        '3000',
        '--batch-size',
        '32',
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: 'ignore' },
    )
    try {
      const deadline = Date.now() + 180_000
      while (!existsSync(join(out, 'metadata.json')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200))
      }
      expect(existsSync(join(out, 'metadata.json')), 'no checkpoint was written').toBe(true)
      // The checkpoint must exist while training is still going (20 epochs), not only at the end.
      expect(child.exitCode, 'training ended before a checkpoint appeared').toBeNull()
    } finally {
      child.kill('SIGKILL')
    }
    await new Promise((r) => child.once('exit', r))
    const r = await inklab(['eval', '--model', out, '--dataset', 'mnist', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(lastJson(r.stdout).testAccuracy).toBeGreaterThan(0.5)
  })
})

describe('inklab CLI: --out never destroys data', () => {
  it('refuses a TF.js model folder InkLab did not write, and a lone model.json', async () => {
    const foreign = join(work, 'their-model')
    mkdirSync(foreign)
    writeFileSync(join(foreign, 'model.json'), '{"modelTopology":{},"weightsManifest":[]}')
    writeFileSync(join(foreign, 'weights.bin'), 'their weights')
    const r = await inklab(['train', '--dataset', 'mnist', '--epochs', '1', '--out', foreign])
    expect(r.code).toBe(1)
    expectOneLineError(r, /--out .*their-model: holds a model InkLab did not write/)
    expect(r.stderr).not.toMatch(/^dataset:/m)
    expect(readFileSync(join(foreign, 'weights.bin'), 'utf8')).toBe('their weights')
    const lone = join(work, 'lone-model')
    mkdirSync(lone)
    writeFileSync(join(lone, 'model.json'), '{}')
    const r2 = await inklab(['train', '--dataset', 'mnist', '--epochs', '1', '--out', lone])
    expectOneLineError(r2, /lone-model: holds a model InkLab did not write/)
    expect(readFileSync(join(lone, 'model.json'), 'utf8')).toBe('{}')
  })

  it('finds an --out that cannot be written before any work, and says it is --out', async () => {
    writeFileSync(join(work, 'notes.txt'), 'x')
    const underFile = await inklab([
      'train',
      '--dataset',
      'mnist',
      '--out',
      join(work, 'notes.txt', 'model'),
    ])
    expect(underFile.code).toBe(1)
    expectOneLineError(underFile, /^inklab: error: --out .*notes\.txt: is a file, not a folder$/)
    expect(underFile.stderr).not.toMatch(/^(backend|dataset):/m)
    if (process.platform === 'linux') {
      // Node 20's mkdir -p loops forever under /proc; this must answer at once.
      const proc = await inklab(['train', '--dataset', 'mnist', '--out', '/proc/inklab-m'], 60_000)
      expect(proc.code).toBe(1)
      expectOneLineError(proc, /^inklab: error: --out \/proc: nothing can be written here/)
    }
  })

  it('accepts a folder holding only .DS_Store, and clears what a killed save left beside --out', async () => {
    const out = join(work, 'mac-folder')
    mkdirSync(out)
    writeFileSync(join(out, '.DS_Store'), 'Finder')
    mkdirSync(join(work, 'mac-folder.tmp-dead01'))
    writeFileSync(join(work, 'mac-folder.tmp-dead01', 'weights.bin'), 'half')
    const r = await inklab([
      'train',
      '--dataset',
      'mnist',
      '--preset',
      'fast',
      '--epochs',
      '1',
      '--limit',
      '600',
      '--out',
      out,
      '--json',
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(existsSync(join(out, 'model.json'))).toBe(true)
    expect(existsSync(join(work, 'mac-folder.tmp-dead01'))).toBe(false)
    expect(lastJson(r.stdout).evaluation).toMatchObject({ split: 'test', count: 10_000 })
  })

  it('refuses an --out folder that holds anything but a model, before doing any work', async () => {
    const folder = join(work, 'my-documents')
    mkdirSync(folder)
    writeFileSync(join(folder, 'thesis.txt'), 'months of work')
    const r = await inklab(['train', '--dataset', 'mnist', '--epochs', '1', '--out', folder])
    expect(r.code).toBe(1)
    expectOneLineError(r, /my-documents: is not a model folder \(it holds thesis\.txt\)/)
    expect(r.stderr).not.toMatch(/^dataset:/m) // refused before loading or training anything
    expect(readFileSync(join(folder, 'thesis.txt'), 'utf8')).toBe('months of work')
  })

  /** Starts `inklab train`, sends Ctrl+C once stderr matches `when`, and waits for the exit. */
  async function interrupt(args: string[], when: RegExp): Promise<CliResult> {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT })
    let stdout = ''
    let stderr = ''
    let sent = false
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (!sent && when.test(stderr)) {
        sent = true
        child.kill('SIGINT')
      }
    })
    const code = await new Promise<number>((done) => child.once('exit', (c) => done(c ?? 1)))
    return { code, stdout, stderr }
  }

  it('leaves an existing model untouched when Ctrl+C comes before the first epoch ends', async () => {
    const out = join(work, 'keep-model')
    cpSync(join(ROOT, 'resources/models/mnist'), out, { recursive: true })
    const before = readFileSync(join(out, 'weights.bin'))
    const r = await interrupt(
      [
        'train',
        '--dataset',
        'mnist',
        '--preset',
        'classic',
        '--epochs',
        '1',
        '--batch-size',
        '32',
        '--out',
        out,
        '--json',
      ],
      /^training classic/m,
    )
    expect(r.code, r.stderr).toBe(130)
    expect(lastJson(r.stdout)).toEqual({ stopReason: 'cancelled', saved: false })
    expect(readFileSync(join(out, 'weights.bin')).equals(before)).toBe(true)
    // One account of what happened, and nothing that contradicts it.
    const after = r.stderr.slice(r.stderr.indexOf('stopping after this batch'))
    expect(after.split('\n').filter((l) => /cancel|kept|model/i.test(l))).toEqual([
      `cancelled before the first epoch ended; nothing was saved and ${out} was left as it was`,
    ])
  })

  it('exits 130 without an error when Ctrl+C comes during a folder import', async () => {
    const dir = join(work, 'big-folder')
    const dot = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#fff' } })
      .composite([
        {
          input: Buffer.from(
            '<svg width="40" height="40"><circle cx="20" cy="20" r="12" fill="none" stroke="black" stroke-width="4"/></svg>',
          ),
        },
      ])
      .png()
      .toBuffer()
    for (const label of ['a', 'b']) {
      mkdirSync(join(dir, label), { recursive: true })
      for (let i = 0; i < 1500; i++) writeFileSync(join(dir, label, `${i}.png`), dot)
    }
    const r = await interrupt(
      ['train', '--dataset', dir, '--epochs', '1', '--out', join(work, 'never'), '--json'],
      /importing/,
    )
    expect(r.code, r.stderr).toBe(130)
    expect(r.stderr).not.toMatch(/inklab: error/)
    expect(lastJson(r.stdout)).toEqual({ stopReason: 'cancelled', saved: false })
    expect(existsSync(join(work, 'never'))).toBe(false)
  })
})

describe('inklab bench', () => {
  it('measures training and inference throughput of the available backends', async () => {
    const r = await inklab(['bench', '--seconds', '0.5', '--skip-accuracy', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const result = lastJson(r.stdout) as {
      results: Array<{
        backend: string
        available: boolean
        train?: Record<string, { samplesPerSec: number }>
        accuracy?: unknown
      }>
    }
    const wasm = result.results.find((b) => b.backend === 'wasm')
    expect(wasm?.available).toBe(true)
    expect(wasm?.train?.classic.samplesPerSec).toBeGreaterThan(0)
    expect(wasm?.train?.fast.samplesPerSec).toBeGreaterThan(0)
    expect(wasm?.accuracy).toBeUndefined()
    expect(r.stderr).toMatch(/wasm/)
  })
})

describe('inklab export', () => {
  const bundled = join(ROOT, 'resources', 'models', 'mnist')

  it('writes Keras and ONNX files, the format taken from the file name', async () => {
    const dir = join(work, 'exports')
    for (const [name, format] of [
      ['mnist.h5', 'keras'],
      ['mnist.onnx', 'onnx'],
    ] as const) {
      const r = await inklab(['export', '--model', bundled, '--out', join(dir, name), '--json'])
      expect(r.code, r.stderr).toBe(0)
      const result = lastJson(r.stdout)
      expect(result).toMatchObject({ format, path: join(dir, name) })
      expect(result.bytes).toBe(readFileSync(join(dir, name)).byteLength)
    }
    // Each file is what its format's reader expects (the round trips are tested in the engine).
    expect(readFileSync(join(dir, 'mnist.h5')).subarray(0, 8).toString('latin1')).toBe(
      '\x89HDF\r\n\x1a\n',
    )
    const session = await ort.InferenceSession.create(readFileSync(join(dir, 'mnist.onnx')))
    expect(session.outputNames).toEqual(['probabilities'])
    await session.release()
  })

  it('writes a TF.js folder with --format tfjs', async () => {
    const out = join(work, 'exports', 'tfjs-model')
    const r = await inklab(['export', '--model', bundled, '--format', 'tfjs', '--out', out])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^Wrote .*tfjs-model \(TF\.js, \d+(\.\d)? KB\)/)
    expect(existsSync(join(out, 'model.json'))).toBe(true)
  })

  it('names --out when it is a folder or under a file, and writes nothing', async () => {
    const folder = await inklab(['export', '--model', bundled, '--format', 'onnx', '--out', work])
    expect(folder.code).toBe(1)
    expectOneLineError(folder, /--out .*: is a folder; give a file name such as .*model\.onnx/)
    const file = join(work, 'plain.txt')
    writeFileSync(file, 'x')
    const under = await inklab(['export', '--model', bundled, '--out', join(file, 'm.h5')])
    expect(under.code).toBe(1)
    expectOneLineError(under, /--out .*m\.h5: .*plain\.txt is a file, not a folder/)
    expect(readFileSync(file, 'utf8')).toBe('x')
  })

  it('asks for --format when the file name does not say it', async () => {
    const r = await inklab(['export', '--model', bundled, '--out', join(work, 'model.bin')])
    expect(r.code).toBe(2)
    expectOneLineError(r, /--format is required/)
    const wrong = await inklab(['export', '--model', bundled, '--format', 'pt', '--out', 'x'])
    expect(wrong.code).toBe(2)
    expectOneLineError(wrong, /--format must be one of tfjs, keras, onnx/)
  })
})

describe('inklab predict', () => {
  it('prints a long --json line whole through a pipe (the exit waits for stdout)', async () => {
    const image = join(work, 'digit.png')
    const pixels = Buffer.alloc(28 * 28)
    for (let y = 6; y < 22; y++) pixels.fill(255, y * 28 + 12, y * 28 + 16)
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(image)
    const files = Array.from({ length: 200 }, () => image)
    const bundled = join(ROOT, 'resources', 'models', 'mnist')
    const r = await inklab(['predict', '--model', bundled, ...files, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.length).toBeGreaterThan(200_000)
    const { predictions } = lastJson(r.stdout) as { predictions: Array<{ label: string }> }
    expect(predictions).toHaveLength(200)
    expect(predictions[0].label).toBe('1')
  })

  it('classifies the images of a folder tree in natural order, passing over the rest', async () => {
    const tree = join(work, 'predict-tree')
    const pixels = Buffer.alloc(28 * 28)
    for (let y = 6; y < 22; y++) pixels.fill(255, y * 28 + 12, y * 28 + 16)
    const png = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toBuffer()
    for (const file of ['b/10.png', 'b/2.PNG', 'a.png', 'b/deeper/x.jpg', '.hidden.png']) {
      const path = join(tree, file)
      mkdirSync(join(path, '..'), { recursive: true })
      writeFileSync(path, file.endsWith('.jpg') ? await sharp(png).jpeg().toBuffer() : png)
    }
    writeFileSync(join(tree, 'b', 'notes.txt'), 'not an image')
    mkdirSync(join(tree, '.cache'))
    writeFileSync(join(tree, '.cache', 'c.png'), png)
    const fifo = join(tree, 'b', 'pipe.png')
    if (process.platform !== 'win32') execFileSync('mkfifo', [fifo])
    const empty = join(work, 'predict-empty')
    mkdirSync(join(empty, 'sub'), { recursive: true })
    writeFileSync(join(empty, 'sub', 'readme.md'), '# no images')
    const bundled = join(ROOT, 'resources', 'models', 'mnist')

    const r = await inklab(['predict', '--model', bundled, tree, '--json'], 120_000)
    expect(r.code, r.stderr).toBe(0)
    const { predictions, errors } = lastJson(r.stdout) as {
      predictions: Array<{ file: string; label: string }>
      errors: unknown[]
    }
    expect(predictions.map((p) => p.file)).toEqual(
      ['a.png', 'b/2.PNG', 'b/10.png', 'b/deeper/x.jpg'].map((f) => join(tree, f)),
    )
    expect(predictions.every((p) => p.label === '1')).toBe(true)
    expect(errors).toEqual([])
    if (process.platform !== 'win32')
      expect(r.stderr).toMatch(/skipped .*pipe\.png: not a regular file/)

    // Without --json: one line per file as for files named one by one, and a folder without any
    // image is an error naming it while the other folder is still classified.
    const none = await inklab(['predict', '--model', bundled, tree, empty], 120_000)
    expect(none.code).toBe(1)
    expect(none.stdout).toContain(`${join(tree, 'b', '10.png')}: 1 (`)
    expect(none.stdout.trim().split('\n')).toHaveLength(4)
    expect(none.stderr).toMatch(/passed over 2 files that are not an image/)
    expectOneLineError(none, /predict-empty: no image files in this folder or its subfolders/)
  })
})
