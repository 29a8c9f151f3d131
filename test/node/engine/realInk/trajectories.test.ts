import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

import { DatasetError } from '@engine/data/types'
import {
  DATASETS_ENV,
  findSharedDatasets,
  loadPendigits,
  loadUjiPenChars,
  parseUnipen,
} from '@engine/realInk/trajectories'

import { makeTmpDir } from '../../helpers/tmpDir'

const PROJECT_ROOT = resolve(__dirname, '../../../..')

const PENDIGITS_TEXT = `.INCLUDE dene.doc
.SEGMENT DIGIT    0 ? "8"
.COMMENT 8 12  224
.PEN_DOWN
 267  333
 260  300
.PEN_UP
.PEN_DOWN
 100  100
.PEN_UP
.DT 100
.SEGMENT DIGIT    1-2 ? "1"
.COMMENT 1 13  50
.PEN_DOWN
 10  490
 10  10
.PEN_UP
`

describe('parseUnipen', () => {
  it('reads samples, writers from the comment, strokes, and flips y-up recordings', () => {
    const samples = parseUnipen(PENDIGITS_TEXT, 'pendigits.tra', {
      collection: 'pendigits',
      writerOf: (comment) => comment.split(/\s+/)[1] ?? null,
      flipY: 500,
    })
    expect(samples.map((s) => [s.id, s.label, s.writer, s.strokes.length])).toEqual([
      [0, '8', 'pendigits:12', 2],
      [1, '1', 'pendigits:13', 1],
    ])
    expect(samples[0]!.strokes[0]).toEqual([
      { x: 267, y: 167 },
      { x: 260, y: 200 },
    ])
  })

  it('takes the writer of a per-writer file and keeps y as recorded', () => {
    const text = '.SEGMENT CHARACTER 0 ? "a"\n.COMMENT Class [A]\n.PEN_DOWN\n 5 7\n.PEN_UP\n'
    const [a] = parseUnipen(text, 'UJIpenchars-w03', {
      collection: 'ujipenchars',
      fileWriter: 'w03',
    })
    expect(a).toEqual({ id: 0, label: 'a', writer: 'ujipenchars:w03', strokes: [[{ x: 5, y: 7 }]] })
  })

  it('names the file and line of malformed input', () => {
    const bad = '.SEGMENT DIGIT 0 ? "3"\n.PEN_DOWN\n 12 abc\n'
    expect(() => parseUnipen(bad, '/data/x.tra', { collection: 'pendigits' })).toThrow(
      /x\.tra: line 3: expected "x y"/,
    )
    expect(() => parseUnipen('hello\n', '/data/empty.tra', { collection: 'pendigits' })).toThrow(
      DatasetError,
    )
  })
})

describe('findSharedDatasets', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })

  it('finds shared/datasets beside the project, or above it as from a worktree', async () => {
    const { dir, cleanup } = await makeTmpDir()
    cleanups.push(cleanup)
    await mkdir(join(dir, 'shared', 'datasets'), { recursive: true })
    await mkdir(join(dir, 'main'))
    await mkdir(join(dir, 'wt', 'feature'), { recursive: true })
    expect(findSharedDatasets(join(dir, 'main'), {})).toBe(join(dir, 'shared', 'datasets'))
    expect(findSharedDatasets(join(dir, 'wt', 'feature'), {})).toBe(join(dir, 'shared', 'datasets'))
  })

  it(`prefers $${DATASETS_ENV}, and says where it looked when nothing is there`, async () => {
    const { dir, cleanup } = await makeTmpDir()
    cleanups.push(cleanup)
    expect(findSharedDatasets('/nowhere/project', { [DATASETS_ENV]: dir })).toBe(dir)
    expect(() =>
      findSharedDatasets('/nowhere/project', { [DATASETS_ENV]: join(dir, 'missing') }),
    ).toThrow(/does not exist/)
    // A file system with no shared/datasets anywhere (the real one may have one above any folder).
    const looked: string[] = []
    const nothing = (path: string): boolean => {
      looked.push(path)
      return false
    }
    expect(() => findSharedDatasets('/home/ann/project', {}, nothing)).toThrow(
      new RegExp(
        `looked in /home/ann/shared/datasets, /home/shared/datasets, /shared/datasets\\); ` +
          `set ${DATASETS_ENV}`,
      ),
    )
    expect(looked).toEqual([
      '/home/ann/shared/datasets',
      '/home/shared/datasets',
      '/shared/datasets',
    ])
  })
})

// The real collections: CI has them in ../shared/datasets; a missing folder is a failure, not a skip.
describe('the shared pen collections', () => {
  const datasets = findSharedDatasets(PROJECT_ROOT)

  it('pendigits: 7,494 digits by writers 1-30, strokes inside the 500x500 box', async () => {
    const samples = await loadPendigits(datasets)
    expect(samples).toHaveLength(7494)
    const writers = new Set(samples.map((s) => s.writer))
    expect(writers.size).toBe(30)
    expect(writers.has('pendigits:1') && writers.has('pendigits:30')).toBe(true)
    expect(new Set(samples.map((s) => s.label))).toEqual(new Set('0123456789'.split('')))
    const points = samples.flatMap((s) => s.strokes.flat())
    expect(points.every((p) => p.y >= 0 && p.y <= 500 && p.x >= 0 && p.x <= 500)).toBe(true)
    expect(samples.map((s) => s.id)).toEqual(samples.map((_, i) => i))
  })

  it('UJI pen characters: 1,364 samples, 11 writers, 62 classes, 22 of each', async () => {
    const samples = await loadUjiPenChars(datasets)
    expect(samples).toHaveLength(1364)
    expect(new Set(samples.map((s) => s.writer)).size).toBe(11)
    const perClass = new Map<string, number>()
    for (const s of samples) perClass.set(s.label, (perClass.get(s.label) ?? 0) + 1)
    expect(perClass.size).toBe(62)
    expect([...perClass.values()].every((n) => n === 22)).toBe(true)
  })

  it('a file that is not UNIPEN is refused with its name', async () => {
    const { dir, cleanup } = await makeTmpDir()
    try {
      await mkdir(join(dir, 'ujipenchars'))
      await writeFile(join(dir, 'ujipenchars', 'UJIpenchars-w01'), 'not a pen file\n')
      await expect(loadUjiPenChars(dir)).rejects.toThrow(/UJIpenchars-w01: no pen samples/)
    } finally {
      await cleanup()
    }
  })
})
