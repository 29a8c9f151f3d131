// A dataset's edits log: the drawings added to it on the pad (collected, or a correction of a
// wrong prediction), the samples given another label and the samples left out. A drawn dataset
// is nothing but its log; an imported or built-in one is its stored copy with the log applied
// on top, so the files it was imported from are never touched.
//
// The log (`edits.jsonl` in the app's dataset folders) holds one JSON object a line: a header,
// then one operation a line, each appended and flushed before the call resolves:
//
//   {"format":"inklab-edits","formatVersion":1}
//   {"op":"add","key":"d-3f9c…","label":"a","pixels":"<base64 of the 784-byte 28x28 input>",
//    "ink":{"padSize":280,"strokes":[{"width":18,"points":[[x,y,w],…]}]},"at":"<ISO time>"}
//   {"op":"relabel","key":"file:cats/12.png","label":"dog","at":"…"}
//   {"op":"remove","key":"d-3f9c…","at":"…"}     (undo a drawing; exclude a stored sample)
//   {"op":"restore","key":"train:123","at":"…"}  (take back a removal or a relabelling)
//
// A stored sample is named by its file when it has one (`file:` and its path relative to the
// imported folder: a refresh of the folder that adds or removes other files does not move it),
// else by its position (`train:123`: IDX files and built-in MNIST name no files, so a refresh of
// an IDX folder whose files changed order would move its corrections). Logs written before file
// keys named folder samples by position too: `rekeyEdits` turns those into file keys when they
// were written against the stored copy there is now, and leaves the others out.
//
// `ink` is the raw strokes in the documented shape of `InkSchema` (src/shared/schemas/ink.ts),
// kept so a drawing can be rendered again later. A write cut short by a crash leaves at most a
// torn last line: reading skips it, and the next append starts on a line of its own, so nothing
// written before is lost.
import { randomBytes } from 'node:crypto'
import { open } from 'node:fs/promises'

import { exists, FileSystemError, readRegularFile, writeFileAtomic } from '@shared/node/files'
import { KeyedQueue } from '@shared/node/keyedQueue'
import { SampleKeySchema, SampleLabelSchema, type Correction } from '@shared/schemas/collection'
import type { DatasetEdits, DatasetSource } from '@shared/schemas/dataset'
import { InkSchema, type Ink } from '@shared/schemas/ink'
import { z } from 'zod'

import { FILE_KEY_PREFIX, positionOf, storedKey } from './split'
import { DatasetError, IMAGE_PIXELS, type Dataset, type Split } from './types'

/** The first line of every edits log. */
const HEADER = { format: 'inklab-edits', formatVersion: 1 } as const
const HeaderSchema = z.object({
  format: z.literal(HEADER.format),
  formatVersion: z.literal(HEADER.formatVersion),
})

/** Logs larger than this are refused (about 200,000 drawings with their ink). */
export const MAX_EDITS_BYTES = 1024 ** 3

/** Base64 of the 784 bytes of a 28x28 input. */
const PixelsSchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64')
  .refine((text) => Buffer.from(text, 'base64').byteLength === IMAGE_PIXELS, {
    message: `not ${IMAGE_PIXELS} bytes`,
  })

/** The key of a drawing added to a dataset. */
const DrawnKeySchema = SampleKeySchema.refine((key) => key.startsWith('d-'), 'not a drawing key')

/** One line of the log after the header. */
export const EditOpSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('add'),
    key: DrawnKeySchema,
    label: SampleLabelSchema,
    pixels: PixelsSchema,
    ink: InkSchema.optional(),
    at: z.string(),
  }),
  z.object({
    op: z.literal('relabel'),
    key: SampleKeySchema,
    label: SampleLabelSchema,
    at: z.string(),
  }),
  z.object({ op: z.literal('remove'), key: SampleKeySchema, at: z.string() }),
  z.object({ op: z.literal('restore'), key: SampleKeySchema, at: z.string() }),
])
export type EditOp = z.infer<typeof EditOpSchema>

/** A log as read: its operations in order, and how many lines could not be used. */
export interface EditsLog {
  ops: EditOp[]
  /** Lines skipped: a write torn by a crash, or a line damaged on disk. */
  damaged: number
}

/** A drawing to add: its class, the 28x28 input it was preprocessed into, and its raw ink. */
export interface NewDrawing {
  label: string
  pixels: Uint8Array
  ink?: Ink
}

/** Writes to one log, in the order they were asked for (the key is the log's path). */
const writes = new KeyedQueue()

function now(): string {
  return new Date().toISOString()
}

/** A new drawing key: `d-` and 12 random hex digits. */
export function newDrawingKey(): string {
  return `d-${randomBytes(6).toString('hex')}`
}

/** Reads a dataset's edits log; a missing log is an empty one. */
export async function readEdits(file: string): Promise<EditsLog> {
  if (!(await exists(file))) return { ops: [], damaged: 0 }
  let bytes: Buffer
  try {
    bytes = await readRegularFile(file, { maxBytes: MAX_EDITS_BYTES })
  } catch (error) {
    if (error instanceof FileSystemError) {
      throw new DatasetError(error.problem, file, { cause: error })
    }
    throw error
  }
  const lines = bytes.toString('utf8').split('\n')
  const ops: EditOp[] = []
  let damaged = 0
  let header = false
  for (const line of lines) {
    if (!line.trim()) continue
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch {
      if (!header)
        throw new DatasetError('not an InkLab edits log (its first line is not JSON)', file)
      damaged++
      continue
    }
    if (!header) {
      if (!HeaderSchema.safeParse(json).success) {
        throw new DatasetError('not an InkLab edits log (no inklab-edits header)', file)
      }
      header = true
      continue
    }
    const parsed = EditOpSchema.safeParse(json)
    if (parsed.success) ops.push(parsed.data)
    else damaged++
  }
  return { ops, damaged }
}

/**
 * Appends `ops` to the log at `file` (created with its header when missing), flushed to disk
 * before it resolves. Appends to one log never interleave; one that follows a torn last line
 * starts on a new line.
 */
export function appendEdits(file: string, ops: readonly EditOp[]): Promise<void> {
  return writes.run(file, () => appendNow(file, ops))
}

async function appendNow(file: string, ops: readonly EditOp[]): Promise<void> {
  const lines = ops.map((op) => `${JSON.stringify(op)}\n`).join('')
  if (!(await exists(file))) {
    // Created whole or not at all: a crash never leaves a log without its header.
    await writeFileAtomic(file, `${JSON.stringify(HEADER)}\n${lines}`)
    return
  }
  const handle = await open(file, 'a+')
  try {
    const { size } = await handle.stat()
    let start = ''
    if (size > 0) {
      const last = Buffer.alloc(1)
      await handle.read(last, 0, 1, size - 1)
      if (last[0] !== 0x0a) start = '\n'
    }
    await handle.appendFile(start + lines)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Rewrites the log at `file` with `rekeyEdits(base, …)` applied, so that its position keys of
 * folder samples become file keys while `base` is still the copy they were written against (a
 * refresh runs this before it replaces the copy). Stale operations stay in the log as they were,
 * never applied; lines a crash tore are dropped. Resolves with what it changed.
 */
export function rekeyEditsLog(
  file: string,
  base: Dataset | null,
): Promise<{ rekeyed: number; stale: number }> {
  return writes.run(file, async () => {
    const { ops } = await readEdits(file)
    const rekeyed = rekeyEdits(base, ops)
    const stale = staleCount(rekeyed.stale)
    if (!rekeyed.count) return { rekeyed: 0, stale }
    const lines = [HEADER, ...rekeyed.ops].map((line) => `${JSON.stringify(line)}\n`).join('')
    await writeFileAtomic(file, lines)
    return { rekeyed: rekeyed.count, stale }
  })
}

/** Appends a drawing; resolves with its key once it is on disk. */
export async function addDrawing(file: string, drawing: NewDrawing): Promise<string> {
  if (drawing.pixels.length !== IMAGE_PIXELS) {
    throw new DatasetError(
      `a drawing's input must be ${IMAGE_PIXELS} bytes, not ${drawing.pixels.length}`,
    )
  }
  const key = newDrawingKey()
  await appendEdits(file, [
    {
      op: 'add',
      key,
      label: SampleLabelSchema.parse(drawing.label),
      pixels: Buffer.from(drawing.pixels).toString('base64'),
      ...(drawing.ink ? { ink: drawing.ink } : {}),
      at: now(),
    },
  ])
  return key
}

/**
 * Removes the drawing added last that is still in the dataset; null when there is none. Read and
 * written in one step of the log's queue, so two undos remove two drawings.
 */
export function undoLastDrawing(file: string): Promise<{ key: string; label: string } | null> {
  return writes.run(file, async () => {
    const { ops } = await readEdits(file)
    const state = reduceEdits(ops)
    const keys = [...state.drawn.keys()].filter((key) => !state.removed.has(key))
    const key = keys.at(-1)
    if (!key) return null
    await appendNow(file, [{ op: 'remove', key, at: now() }])
    return { key, label: state.relabelled.get(key) ?? state.drawn.get(key)!.label }
  })
}

/** Records a correction of sample `key`. */
export async function appendCorrection(
  file: string,
  key: string,
  correction: Correction,
): Promise<void> {
  const at = now()
  const op: EditOp =
    correction.action === 'relabel'
      ? { op: 'relabel', key, label: correction.label, at }
      : { op: correction.action === 'exclude' ? 'remove' : 'restore', key, at }
  await appendEdits(file, [op])
}

/** What a log amounts to: the drawings it added, and what it removed and relabelled. */
export interface EditState {
  /** Drawings in the order they were added (removed ones too: see `removed`). */
  drawn: Map<string, { label: string; pixels: string; ink?: Ink }>
  /** Keys out of the dataset: undone drawings, excluded stored samples. */
  removed: Set<string>
  /** The label each relabelled sample has now. */
  relabelled: Map<string, string>
}

/** Replays a log's operations. */
export function reduceEdits(ops: readonly EditOp[]): EditState {
  const state: EditState = { drawn: new Map(), removed: new Set(), relabelled: new Map() }
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        state.drawn.set(op.key, {
          label: op.label,
          pixels: op.pixels,
          ...(op.ink ? { ink: op.ink } : {}),
        })
        state.removed.delete(op.key)
        state.relabelled.delete(op.key)
        break
      case 'relabel':
        state.relabelled.set(op.key, op.label)
        break
      case 'remove':
        state.removed.add(op.key)
        break
      case 'restore':
        state.removed.delete(op.key)
        state.relabelled.delete(op.key)
        break
    }
  }
  return state
}

/** How `applyEdits` names and describes a dataset that is only drawings. */
export interface DrawnDatasetInfo {
  name: string
}

/** A log's operations with position keys of folder samples turned into file keys. */
export interface RekeyedEdits {
  /** Every operation, in order: rekeyed where it could be, stale ones as they were. */
  ops: EditOp[]
  /** The operations that name a folder sample by a position they cannot be trusted with. */
  stale: ReadonlySet<EditOp>
  /** How many operations were given a file key. */
  count: number
}

/**
 * Turns the position keys (`train:<i>`, `test:<i>`) that name samples of a split with files (a
 * folder import) into those samples' file keys, as `storedKey` names them now. A position names
 * the sample at that place of the copy the operation was written against: an operation written
 * since `base` was imported (`base.importedAt`) becomes the key of the file there; one written
 * before it, or when the copy's import time is unknown, is stale, since a refresh that added or
 * removed files may have put another image there. Splits without files keep their positions.
 */
export function rekeyEdits(base: Dataset | null, ops: readonly EditOp[]): RekeyedEdits {
  const importedAt = base?.importedAt ? Date.parse(base.importedAt) : NaN
  const stale = new Set<EditOp>()
  let count = 0
  const out = ops.map((op) => {
    if (op.op === 'add') return op
    for (const split of ['train', 'test'] as const) {
      const position = positionOf(op.key, split)
      const from = base?.[split]
      if (position === null || !from?.files) continue
      if (position < from.count && Date.parse(op.at) >= importedAt) {
        count++
        return { ...op, key: storedKey(from, split, position) }
      }
      stale.add(op)
    }
    return op
  })
  return { ops: out, stale, count }
}

/** How many samples the stale operations name. */
function staleCount(stale: ReadonlySet<EditOp>): number {
  return new Set([...stale].map((op) => op.key)).size
}

/**
 * Whether `key` names a stored sample of `base`: a file key one of its files, a position key a
 * place in a split without files. The file names are indexed on first use.
 */
function storedSamples(base: Dataset | null): (key: string) => boolean {
  let files: Set<string> | null = null
  return (key) => {
    if (!base) return false
    if (key.startsWith(FILE_KEY_PREFIX)) {
      files ??= new Set([...(base.train.files ?? []), ...(base.test?.files ?? [])])
      return files.has(key.slice(FILE_KEY_PREFIX.length))
    }
    return (['train', 'test'] as const).some((split) => {
      const position = positionOf(key, split)
      const from = base[split]
      return position !== null && from !== undefined && !from.files && position < from.count
    })
  }
}

/**
 * The dataset `base` becomes with the log's operations applied (`base` null: a drawn dataset,
 * only its drawings). Stored samples keep their order, minus the excluded ones; drawings follow
 * the training samples in the order they were added. Classes keep the base's order; a drawing
 * or a relabelling may add a class after them, which lasts while it has a sample. Keys that name
 * no sample are ignored, and so are stale operations (see `rekeyEdits`; the summary counts them).
 */
export function applyEdits(
  base: Dataset | null,
  ops: readonly EditOp[],
  drawn: DrawnDatasetInfo,
): Dataset {
  const rekeyed = rekeyEdits(base, ops)
  const usable = rekeyed.ops.filter((op) => !rekeyed.stale.has(op))
  const state = reduceEdits(usable)
  const isStored = storedSamples(base)
  const exists = (key: string): boolean => state.drawn.has(key) || isStored(key)
  const labels = [...(base?.labels ?? [])]
  const labelOf = (key: string, original: string): string => state.relabelled.get(key) ?? original

  // The classes beyond the base's: those a sample has now, in the order the log named them.
  const inUse = new Set<string>()
  for (const [key, sample] of state.drawn) {
    if (!state.removed.has(key)) inUse.add(labelOf(key, sample.label))
  }
  for (const [key, label] of state.relabelled) {
    if (!state.removed.has(key) && exists(key)) inUse.add(label)
  }
  const extra = new Set<string>()
  for (const op of usable) {
    if (op.op !== 'add' && op.op !== 'relabel') continue
    if (inUse.has(op.label) && !labels.includes(op.label)) extra.add(op.label)
  }
  labels.push(...extra)
  const index = new Map(labels.map((label, i) => [label, i]))

  const build = (split: 'train' | 'test', from: Split | undefined, withDrawings: boolean) => {
    const images: Uint8Array[] = []
    const classes: number[] = []
    const keys: string[] = []
    // Source files, when the stored samples have them; a drawing has none ('').
    const files: string[] | null = from?.files ? [] : null
    if (from) {
      for (let i = 0; i < from.count; i++) {
        const key = storedKey(from, split, i)
        if (state.removed.has(key)) continue
        const relabel = state.relabelled.get(key)
        images.push(from.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS))
        classes.push(relabel !== undefined ? index.get(relabel)! : from.labels[i]!)
        keys.push(key)
        files?.push(from.files![i]!)
      }
    }
    if (withDrawings) {
      for (const [key, sample] of state.drawn) {
        if (state.removed.has(key)) continue
        images.push(new Uint8Array(Buffer.from(sample.pixels, 'base64')))
        classes.push(index.get(labelOf(key, sample.label))!)
        keys.push(key)
        files?.push('')
      }
    }
    const count = images.length
    const pixels = new Uint8Array(count * IMAGE_PIXELS)
    images.forEach((image, i) => pixels.set(image, i * IMAGE_PIXELS))
    const out: Split = {
      images: pixels,
      labels: labels.length > 256 ? Uint16Array.from(classes) : Uint8Array.from(classes),
      count,
      ...(files ? { files } : {}),
    }
    return { split: out, keys }
  }

  const train = build('train', base?.train, true)
  const test = base?.test ? build('test', base.test, false) : null
  const source: DatasetSource = base?.source ?? { kind: 'drawn' }
  return {
    name: base?.name ?? drawn.name,
    labels,
    train: train.split,
    ...(test ? { test: test.split } : {}),
    source,
    skipped: base?.skipped ?? [],
    transposed: base?.transposed ?? false,
    ...(base?.importedAt ? { importedAt: base.importedAt } : {}),
    keys: { train: train.keys, ...(test ? { test: test.keys } : {}) },
    edits: summarizeEdits(state, exists, staleCount(rekeyed.stale)),
    labelledAt: new Map(usable.filter((op) => op.op !== 'remove').map((op) => [op.key, op.at])),
  }
}

/** The counts a dataset summary shows of its edits. */
function summarizeEdits(
  state: EditState,
  exists: (key: string) => boolean,
  stale: number,
): DatasetEdits {
  let drawn = 0
  for (const key of state.drawn.keys()) if (!state.removed.has(key)) drawn++
  let relabelled = 0
  for (const key of state.relabelled.keys()) {
    if (!state.removed.has(key) && exists(key)) relabelled++
  }
  let excluded = 0
  for (const key of state.removed) if (!state.drawn.has(key) && exists(key)) excluded++
  return { drawn, relabelled, excluded, ...(stale ? { stale } : {}) }
}

/**
 * Checks a correction before it is written: the sample must exist, and a relabelling must name
 * one of the dataset's classes unless `newClasses` (a drawn dataset may gain one).
 */
export function checkCorrection(
  base: Dataset | null,
  ops: readonly EditOp[],
  key: string,
  correction: Correction,
  current: Pick<Dataset, 'labels'>,
  newClasses: boolean,
): void {
  if (!reduceEdits(ops).drawn.has(key) && !storedSamples(base)(key)) {
    throw new DatasetError(`there is no sample "${key}" in this dataset`)
  }
  if (correction.action === 'relabel') checkLabel(correction.label, current, newClasses)
}

/** Refuses a label that is not one of `dataset`'s classes, unless new classes are allowed. */
export function checkLabel(
  label: string,
  dataset: Pick<Dataset, 'labels'>,
  newClasses: boolean,
): void {
  if (newClasses || dataset.labels.includes(label)) return
  const shown = dataset.labels.slice(0, 12).join(', ')
  const more = dataset.labels.length > 12 ? ', …' : ''
  throw new DatasetError(
    `“${label}” is not a class of this dataset (${shown}${more}); only a drawn dataset can gain a class`,
  )
}
