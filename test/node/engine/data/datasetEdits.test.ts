import { execFileSync, spawn } from 'node:child_process'
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { summarizeDataset } from '@engine/data/datasetStore'
import {
  addDrawing,
  appendCorrection,
  appendEdits,
  applyEdits,
  checkCorrection,
  checkLabel,
  readEdits,
  rekeyEdits,
  rekeyEditsLog,
  undoLastDrawing,
  type EditOp,
} from '@engine/data/datasetEdits'
import { sampleKey, stratifiedSplit } from '@engine/data/split'
import type { Dataset } from '@engine/data/types'
import type { Ink } from '@shared/schemas/ink'

import { buildChild } from '../../helpers/buildChild'
import { makeTempDir } from './helpers'

let dir: string
let cleanup: () => Promise<void>
let log: string

beforeEach(async () => {
  ;({ dir, cleanup } = await makeTempDir('inklab-edits-'))
  log = join(dir, 'edits.jsonl')
})
afterEach(() => cleanup())

/** A 28x28 input whose every pixel is `value`. */
const input = (value: number) => new Uint8Array(784).fill(value)

/** Two strokes with pen pressure, as the pad records them. */
const INK: Ink = {
  padSize: 280,
  strokes: [
    {
      width: 18,
      points: [
        [40.5, 50, 1],
        [60.25, 80.75, 1.2],
        [90, 120, 0.8],
      ],
    },
    { width: 12, points: [[140, 140, 1]] },
  ],
}

/** A stored (imported) dataset: classes x, y; train x, y, x, y; test y, x. */
function storedDataset(): Dataset {
  return {
    name: 'scans',
    labels: ['x', 'y'],
    train: {
      images: Uint8Array.from({ length: 4 * 784 }, (_, i) => Math.floor(i / 784) + 1),
      labels: Uint8Array.from([0, 1, 0, 1]),
      count: 4,
    },
    test: {
      images: Uint8Array.from({ length: 2 * 784 }, (_, i) => 100 + Math.floor(i / 784)),
      labels: Uint8Array.from([1, 0]),
      count: 2,
    },
    source: { kind: 'folder', path: '/data/scans' },
    skipped: [],
    transposed: false,
  }
}

describe('the edits log on disk', () => {
  it('starts with its header and keeps each drawing: its class, its 28x28 input and its raw ink', async () => {
    const key = await addDrawing(log, { label: 'a', pixels: input(7), ink: INK })
    expect(key).toMatch(/^d-[0-9a-f]{12}$/)
    const lines = (await readFile(log, 'utf8')).split('\n')
    expect(lines.at(-1), 'the file ends with a newline').toBe('')
    expect(JSON.parse(lines[0]!)).toEqual({ format: 'inklab-edits', formatVersion: 1 })
    const op = JSON.parse(lines[1]!) as Record<string, unknown>
    expect(op).toMatchObject({ op: 'add', key, label: 'a' })
    expect(Buffer.from(op.pixels as string, 'base64')).toEqual(Buffer.from(input(7)))
    expect(op.ink, 'the strokes are kept exactly as drawn').toEqual(INK)
    expect(Date.parse(op.at as string)).not.toBeNaN()

    const { ops, damaged } = await readEdits(log)
    expect(damaged).toBe(0)
    expect(ops).toHaveLength(1)
    expect(ops[0]).toMatchObject({ op: 'add', key, label: 'a', ink: INK })
  })

  it('reads a missing log as empty, and refuses a file that is not one', async () => {
    await expect(readEdits(log)).resolves.toEqual({ ops: [], damaged: 0 })
    await writeFile(log, 'label,file\na,1.png\n')
    await expect(readEdits(log)).rejects.toThrow(/edits.jsonl: not an InkLab edits log/)
    await writeFile(log, '{"format":"something-else"}\n')
    await expect(readEdits(log)).rejects.toThrow(/no inklab-edits header/)
  })

  it('refuses a drawing of the wrong size and a label with control characters', async () => {
    await expect(addDrawing(log, { label: 'a', pixels: new Uint8Array(100) })).rejects.toThrow(
      /784 bytes, not 100/,
    )
    await expect(addDrawing(log, { label: 'a\u0007', pixels: input(1) })).rejects.toThrow(
      /control characters/,
    )
  })

  it('keeps every one of many drawings saved at once (appends never interleave)', async () => {
    const saves = Array.from({ length: 60 }, (_, i) =>
      addDrawing(log, { label: ['a', 'b', 'c'][i % 3]!, pixels: input(i), ink: INK }),
    )
    const keys = await Promise.all(saves)
    expect(new Set(keys).size).toBe(60)
    const { ops, damaged } = await readEdits(log)
    expect(damaged, 'no line was torn or mixed with another').toBe(0)
    expect(ops.map((op) => op.key).sort()).toEqual([...keys].sort())
    const dataset = applyEdits(null, ops, { name: 'letters' })
    expect(summarizeDataset(dataset, 'letters').trainCounts).toEqual([20, 20, 20])
  })

  it('loses nothing to a write torn by a crash: the torn line is skipped, the next starts afresh', async () => {
    const first = await addDrawing(log, { label: 'a', pixels: input(1), ink: INK })
    // What a process killed in the middle of an append leaves: half a line, no newline.
    const whole = `${JSON.stringify({ op: 'add', key: 'd-0123456789ab', label: 'b', pixels: Buffer.from(input(2)).toString('base64'), at: new Date().toISOString() })}\n`
    await appendFile(log, whole.slice(0, whole.length / 2))
    let read = await readEdits(log)
    expect(read.damaged).toBe(1)
    expect(read.ops.map((op) => op.key)).toEqual([first])

    const next = await addDrawing(log, { label: 'b', pixels: input(3) })
    read = await readEdits(log)
    expect(read.damaged, 'only the torn line is lost').toBe(1)
    expect(read.ops.map((op) => op.key)).toEqual([first, next])
    const dataset = applyEdits(null, read.ops, { name: 'letters' })
    expect(dataset.labels).toEqual(['a', 'b'])
    expect(dataset.train.images.subarray(784)).toEqual(input(3))
  })

  it('loses no acknowledged drawing when the writing process is killed (SIGKILL) mid-stream', async () => {
    const child = await buildChild('appendDrawings')
    const proc = spawn(process.execPath, [child, log], { stdio: ['ignore', 'pipe', 'inherit'] })
    const acknowledged: string[] = []
    await new Promise<void>((resolve, reject) => {
      let text = ''
      proc.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString()
        const lines = text.split('\n')
        text = lines.pop()!
        acknowledged.push(...lines.filter(Boolean))
        // Killed while it keeps writing: some appends are in flight.
        if (acknowledged.length >= 40 && !proc.killed) proc.kill('SIGKILL')
      })
      proc.on('exit', () => resolve())
      proc.on('error', reject)
    })
    expect(acknowledged.length).toBeGreaterThanOrEqual(40)
    const { ops, damaged } = await readEdits(log)
    expect(damaged, 'at most the line being written is torn').toBeLessThanOrEqual(1)
    const saved = new Set(ops.map((op) => op.key))
    expect(
      acknowledged.filter((key) => !saved.has(key)),
      'acknowledged but lost',
    ).toEqual([])
    // The log takes appends again after the crash.
    const after = await addDrawing(log, { label: 'z', pixels: input(9) })
    expect((await readEdits(log)).ops.at(-1)?.key).toBe(after)
  })
})

describe('a drawn dataset (the log alone)', () => {
  it('has the classes in the order they were first drawn, counts, keys and the drawn inputs', async () => {
    const b1 = await addDrawing(log, { label: 'b', pixels: input(1), ink: INK })
    const a1 = await addDrawing(log, { label: 'a', pixels: input(2) })
    const b2 = await addDrawing(log, { label: 'b', pixels: input(3) })
    const dataset = applyEdits(null, (await readEdits(log)).ops, { name: 'letters' })
    expect(dataset.name).toBe('letters')
    expect(dataset.source).toEqual({ kind: 'drawn' })
    expect(dataset.labels).toEqual(['b', 'a'])
    expect(Array.from(dataset.train.labels)).toEqual([0, 1, 0])
    expect(dataset.keys?.train).toEqual([b1, a1, b2])
    expect(dataset.train.images.subarray(784, 1568)).toEqual(input(2))
    expect(dataset.test).toBeUndefined()
    expect(summarizeDataset(dataset, 'letters-1')).toMatchObject({
      labels: ['b', 'a'],
      trainCounts: [2, 1],
      trainSize: 3,
      testSize: 0,
      edits: { drawn: 3, relabelled: 0, excluded: 0 },
    })
  })

  it('is an empty dataset with no classes before the first drawing', () => {
    const dataset = applyEdits(null, [], { name: 'new' })
    expect(dataset.labels).toEqual([])
    expect(dataset.train.count).toBe(0)
    expect(summarizeDataset(dataset, 'new').trainCounts).toEqual([])
  })

  it('undoes the last saved drawing, then the one before; a class with no drawing left goes', async () => {
    await addDrawing(log, { label: 'a', pixels: input(1) })
    const a2 = await addDrawing(log, { label: 'a', pixels: input(2) })
    const c1 = await addDrawing(log, { label: 'c', pixels: input(3) })
    expect(await undoLastDrawing(log)).toEqual({ key: c1, label: 'c' })
    let dataset = applyEdits(null, (await readEdits(log)).ops, { name: 'l' })
    expect(dataset.labels, 'no drawing of "c" is left').toEqual(['a'])
    expect(dataset.train.count).toBe(2)
    const [first, second] = await Promise.all([undoLastDrawing(log), undoLastDrawing(log)])
    expect(first).toEqual({ key: a2, label: 'a' })
    expect(second?.label).toBe('a')
    expect(await undoLastDrawing(log), 'nothing left to undo').toBeNull()
    dataset = applyEdits(null, (await readEdits(log)).ops, { name: 'l' })
    expect(dataset.train.count).toBe(0)
    expect(dataset.edits).toEqual({ drawn: 0, relabelled: 0, excluded: 0 })
  })

  it('relabels a drawing into a new class and restores it', async () => {
    const key = await addDrawing(log, { label: 'a', pixels: input(1) })
    await addDrawing(log, { label: 'a', pixels: input(2) })
    await appendCorrection(log, key, { action: 'relabel', label: 'o' })
    let dataset = applyEdits(null, (await readEdits(log)).ops, { name: 'l' })
    expect(dataset.labels).toEqual(['a', 'o'])
    expect(Array.from(dataset.train.labels)).toEqual([1, 0])
    await appendCorrection(log, key, { action: 'restore' })
    dataset = applyEdits(null, (await readEdits(log)).ops, { name: 'l' })
    expect(dataset.labels).toEqual(['a'])
  })
})

describe('corrections of an imported dataset (its stored copy stays as it was)', () => {
  it('relabels and excludes stored samples by key, and restores them', async () => {
    const base = storedDataset()
    const before = structuredClone(base)
    await appendCorrection(log, 'train:1', { action: 'relabel', label: 'x' })
    await appendCorrection(log, 'train:2', { action: 'exclude' })
    await appendCorrection(log, 'test:0', { action: 'exclude' })
    const drawn = await addDrawing(log, { label: 'y', pixels: input(50) })
    let dataset = applyEdits(base, (await readEdits(log)).ops, { name: 'ignored' })
    expect(base, 'the stored copy is not changed').toEqual(before)
    expect(dataset.name).toBe('scans')
    expect(dataset.source).toEqual(base.source)
    expect(dataset.labels).toEqual(['x', 'y'])
    expect(dataset.keys?.train).toEqual(['train:0', 'train:1', 'train:3', drawn])
    expect(Array.from(dataset.train.labels)).toEqual([0, 0, 1, 1])
    expect(dataset.train.images[2 * 784], 'train:3 moved up one place').toBe(4)
    expect(dataset.keys?.test).toEqual(['test:1'])
    expect(dataset.edits).toEqual({ drawn: 1, relabelled: 1, excluded: 2 })

    await appendCorrection(log, 'train:2', { action: 'restore' })
    dataset = applyEdits(base, (await readEdits(log)).ops, { name: 'ignored' })
    expect(dataset.keys?.train).toEqual(['train:0', 'train:1', 'train:2', 'train:3', drawn])
    expect(dataset.edits).toEqual({ drawn: 1, relabelled: 1, excluded: 1 })
  })

  it('checks a correction first: the sample must exist, a new class only for a drawn dataset', async () => {
    const base = storedDataset()
    expect(() => checkCorrection(base, [], 'train:9', { action: 'exclude' }, base, false)).toThrow(
      /no sample "train:9"/,
    )
    expect(() =>
      checkCorrection(base, [], 'train:1', { action: 'relabel', label: 'z' }, base, false),
    ).toThrow(/“z” is not a class of this dataset \(x, y\)/)
    expect(() =>
      checkCorrection(base, [], 'test:1', { action: 'relabel', label: 'x' }, base, false),
    ).not.toThrow()
    expect(() => checkLabel('z', base, true)).not.toThrow()
  })

  it('traces a sample of a validation split back to its lasting key', async () => {
    const base = storedDataset()
    await appendCorrection(log, 'train:0', { action: 'exclude' })
    const drawn = await addDrawing(log, { label: 'x', pixels: input(60) })
    const dataset = applyEdits(base, (await readEdits(log)).ops, { name: '' })
    const { validation, train } = stratifiedSplit(dataset.train, 0.5, 3)
    const keys = [
      ...Array.from({ length: train.count }, (_, i) => sampleKey(dataset, 'train', train, i)),
      ...Array.from({ length: validation.count }, (_, i) =>
        sampleKey(dataset, 'train', validation, i),
      ),
    ]
    expect(keys.sort()).toEqual(['train:1', 'train:2', 'train:3', drawn].sort())
    // Without edits, a sample's key is its stored index.
    const plain = stratifiedSplit(base.train, 0.5, 3)
    const index = plain.validation.origin![0]!
    expect(sampleKey(base, 'train', plain.validation, 0)).toBe(`train:${index}`)
    expect(plain.validation.images.subarray(0, 784)).toEqual(
      base.train.images.subarray(index * 784, (index + 1) * 784),
    )
  })
})

/** The images of a folder, by file: each one's pixels all equal its value here. */
const FOLDER_IMAGES: Record<string, number> = {
  'x/0.png': 10,
  'x/1.png': 11,
  'x/2.png': 12,
  'y/1.png': 21,
  'y/2.png': 22,
}

/** A stored copy of an image folder holding `files` (classes x, y), imported at `importedAt`. */
function folderCopy(files: string[], importedAt: string): Dataset {
  return {
    name: 'scans',
    labels: ['x', 'y'],
    train: {
      images: Uint8Array.from(
        { length: files.length * 784 },
        (_, i) => FOLDER_IMAGES[files[Math.floor(i / 784)]!]!,
      ),
      labels: Uint8Array.from(files, (file) => (file.startsWith('y/') ? 1 : 0)),
      count: files.length,
      files,
    },
    source: { kind: 'folder', path: '/data/scans' },
    skipped: [],
    transposed: false,
    importedAt,
  }
}

/** Each training sample of `dataset` as `file label pixel`. */
const samplesOf = (dataset: Dataset): string[] =>
  Array.from(
    { length: dataset.train.count },
    (_, i) =>
      `${dataset.train.files![i]} ${dataset.labels[dataset.train.labels[i]!]} ${dataset.train.images[i * 784]}`,
  )

describe('corrections of a folder’s images, by file', () => {
  const FIRST = ['x/1.png', 'x/2.png', 'y/1.png', 'y/2.png']
  // A refresh after a file was added before the corrected ones: every position moved by one.
  const REFRESHED = ['x/0.png', ...FIRST]
  /** The folder as first imported. */
  const firstCopy = (): Dataset => folderCopy(FIRST, '2026-03-01T00:00:00.000Z')
  /** The refreshed copy with the log's operations applied. */
  const refreshedWith = (ops: readonly EditOp[]): Dataset =>
    applyEdits(folderCopy(REFRESHED, '2026-03-05T00:00:00.000Z'), ops, { name: '' })

  it('names each image by its file, so a refresh that adds a file before it corrects the same image', async () => {
    const copy = firstCopy()
    expect(applyEdits(copy, [], { name: '' }).keys?.train).toEqual(
      FIRST.map((file) => `file:${file}`),
    )
    const stratified = stratifiedSplit(copy.train, 0.5, 3).validation
    expect(sampleKey(copy, 'train', stratified, 0), 'a selected sample keeps its file').toBe(
      `file:${stratified.files![0]}`,
    )
    await appendCorrection(log, sampleKey(copy, 'train', copy.train, 1), {
      action: 'relabel',
      label: 'y',
    })
    await appendCorrection(log, 'file:y/1.png', { action: 'exclude' })
    const { ops } = await readEdits(log)
    expect(ops.map((op) => op.key)).toEqual(['file:x/2.png', 'file:y/1.png'])

    const refreshed = refreshedWith(ops)
    expect(samplesOf(refreshed)).toEqual([
      'x/0.png x 10',
      'x/1.png x 11',
      'x/2.png y 12',
      'y/2.png y 22',
    ])
    expect(refreshed.edits).toEqual({ drawn: 0, relabelled: 1, excluded: 1 })
    // When each sample got the label it has (what a fine-tune tells its corrections by).
    expect([...refreshed.labelledAt!.keys()]).toEqual(['file:x/2.png'])
  })

  it('gives an older log’s positions their files when written on this copy; those from before a refresh are left out and counted', async () => {
    const copy = firstCopy()
    const ops: EditOp[] = [
      { op: 'relabel', key: 'train:1', label: 'y', at: '2026-03-02T00:00:00.000Z' },
      // Written on an earlier copy: position 2 may hold another image now.
      { op: 'remove', key: 'train:2', at: '2026-02-01T00:00:00.000Z' },
    ]
    const rekeyed = rekeyEdits(copy, ops)
    expect(rekeyed.ops.map((op) => op.key)).toEqual(['file:x/2.png', 'train:2'])
    expect([...rekeyed.stale]).toEqual([ops[1]])
    const dataset = applyEdits(copy, ops, { name: '' })
    expect(samplesOf(dataset)).toEqual([
      'x/1.png x 11',
      'x/2.png y 12',
      'y/1.png y 21',
      'y/2.png y 22',
    ])
    expect(dataset.edits).toEqual({ drawn: 0, relabelled: 1, excluded: 0, stale: 1 })
    // A copy whose import time is unknown trusts no position.
    expect(rekeyEdits({ ...copy, importedAt: undefined }, ops).stale.size).toBe(2)
    // Without files, positions are the keys, whenever they were written.
    expect(rekeyEdits(storedDataset(), ops)).toMatchObject({ ops, count: 0 })
    expect(rekeyEdits(storedDataset(), ops).stale.size).toBe(0)
  })

  it('rewrites the log with the files before a refresh, so the refreshed copy still corrects the same image', async () => {
    await appendEdits(log, [
      { op: 'relabel', key: 'train:1', label: 'y', at: '2026-03-02T00:00:00.000Z' },
      { op: 'remove', key: 'train:2', at: '2026-02-01T00:00:00.000Z' },
    ])
    const drawn = await addDrawing(log, { label: 'x', pixels: input(99) })
    const copy = firstCopy()
    expect(await rekeyEditsLog(log, copy)).toEqual({ rekeyed: 1, stale: 1 })
    const { ops, damaged } = await readEdits(log)
    expect(damaged).toBe(0)
    expect(ops.map((op) => op.key)).toEqual(['file:x/2.png', 'train:2', drawn])
    expect(await rekeyEditsLog(log, copy), 'nothing left to rewrite').toEqual({
      rekeyed: 0,
      stale: 1,
    })

    const refreshed = refreshedWith(ops)
    expect(samplesOf(refreshed)).toEqual([
      'x/0.png x 10',
      'x/1.png x 11',
      'x/2.png y 12',
      'y/1.png y 21',
      'y/2.png y 22',
      ' x 99',
    ])
    expect(refreshed.edits).toEqual({ drawn: 1, relabelled: 1, excluded: 0, stale: 1 })
  })

  it('checks a correction of a folder’s image by its file; a position names none of them', () => {
    const copy = firstCopy()
    const exclude = { action: 'exclude' } as const
    expect(() => checkCorrection(copy, [], 'file:y/2.png', exclude, copy, false)).not.toThrow()
    expect(() => checkCorrection(copy, [], 'file:y/9.png', exclude, copy, false)).toThrow(
      /no sample "file:y\/9.png"/,
    )
    expect(() => checkCorrection(copy, [], 'train:1', exclude, copy, false)).toThrow(
      /no sample "train:1"/,
    )
  })
})

describe('a child process appending', () => {
  it('runs the bundled helper', async () => {
    // The SIGKILL test depends on this helper; check it on its own so a failure names it.
    const child = await buildChild('appendDrawings')
    const out = execFileSync(process.execPath, [child, log, '3'], { encoding: 'utf8' })
    expect(out.trim().split('\n')).toHaveLength(3)
    expect((await readEdits(log)).ops).toHaveLength(3)
  })
})
