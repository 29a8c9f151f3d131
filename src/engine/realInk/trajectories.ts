import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'

import { DatasetError } from '../data/types'

/** A pen point in the recording's own units, y pointing down. */
export interface PenPoint {
  x: number
  y: number
}

/** One handwritten character as recorded by a tablet: its label, its writer and its strokes. */
export interface PenSample {
  /** Position in its collection: seeds the sample's renderings, so a subset renders the same. */
  id: number
  label: string
  /** Writer id, unique within its collection (`pendigits:12`, `ujipenchars:w03`). */
  writer: string
  strokes: PenPoint[][]
}

/** The pen collections InkLab's real-ink benchmark reads. */
export type PenCollection = 'pendigits' | 'ujipenchars'

/** The environment variable that points at the shared datasets folder. */
export const DATASETS_ENV = 'INKLAB_DATASETS'

/**
 * The shared datasets folder: `$INKLAB_DATASETS` when set, else the first `shared/datasets` found
 * beside the project root or above it (`../shared/datasets` in a checkout, and also from a git
 * worktree nested deeper). Throws a DatasetError saying where it looked when there is none.
 * `exists` is the file system's answer by default; tests pass their own, as any machine may have a
 * `shared/datasets` somewhere above its temp folder.
 */
export function findSharedDatasets(
  projectRoot: string,
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): string {
  if (env[DATASETS_ENV]) {
    const dir = resolve(env[DATASETS_ENV])
    if (!exists(dir)) {
      throw new DatasetError(`${DATASETS_ENV} points at a folder that does not exist`, dir)
    }
    return dir
  }
  const tried: string[] = []
  let dir = dirname(resolve(projectRoot))
  for (;;) {
    const candidate = join(dir, 'shared', 'datasets')
    tried.push(candidate)
    if (exists(candidate)) return candidate
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  throw new DatasetError(
    `the shared datasets folder was not found (looked in ${tried.join(', ')}); ` +
      `set ${DATASETS_ENV} to the folder that holds pendigits/ and ujipenchars/`,
  )
}

/**
 * Parses a UNIPEN file as the UCI pen collections write it: `.SEGMENT ... "<label>"` starts a
 * sample, each `.PEN_DOWN ... .PEN_UP` block until the next segment is one of its strokes, one
 * `x y` pair per line. `writerOf` names the writer of a sample from its `.COMMENT` line (null:
 * the file's own writer, `fileWriter`). `flipY` turns y-up recordings into y-down.
 */
export function parseUnipen(
  text: string,
  file: string,
  opts: {
    collection: PenCollection
    fileWriter?: string
    writerOf?: (comment: string) => string | null
    flipY?: number
  },
): PenSample[] {
  const samples: PenSample[] = []
  let current: PenSample | null = null
  let stroke: PenPoint[] | null = null
  let sawComment = false
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim()
    if (!line) continue
    const fail = (problem: string): DatasetError =>
      new DatasetError(`line ${n + 1}: ${problem}`, file)
    if (line.startsWith('.SEGMENT')) {
      const match = /"([^"]*)"\s*$/.exec(line)
      if (!match) throw fail('a .SEGMENT without a quoted label')
      current = {
        id: samples.length,
        label: match[1]!,
        writer: `${opts.collection}:${opts.fileWriter ?? '?'}`,
        strokes: [],
      }
      samples.push(current)
      stroke = null
      sawComment = false
    } else if (line.startsWith('.COMMENT')) {
      if (current && !sawComment && opts.writerOf) {
        const writer = opts.writerOf(line.slice('.COMMENT'.length).trim())
        if (writer !== null) current.writer = `${opts.collection}:${writer}`
        sawComment = true
      }
    } else if (line.startsWith('.PEN_DOWN')) {
      if (!current) throw fail('.PEN_DOWN before any .SEGMENT')
      stroke = []
      current.strokes.push(stroke)
    } else if (line.startsWith('.PEN_UP')) {
      stroke = null
    } else if (line.startsWith('.')) {
      continue
    } else if (stroke) {
      const parts = line.split(/\s+/)
      const x = Number(parts[0])
      const y = Number(parts[1])
      if (parts.length < 2 || !Number.isFinite(x) || !Number.isFinite(y)) {
        throw fail(`expected "x y", got "${line.slice(0, 40)}"`)
      }
      stroke.push({ x, y: opts.flipY !== undefined ? opts.flipY - y : y })
    }
  }
  const kept = samples.filter((s) => s.strokes.some((st) => st.length > 0))
  kept.forEach((s, i) => {
    s.id = i
    s.strokes = s.strokes.filter((st) => st.length > 0)
  })
  if (kept.length === 0) throw new DatasetError('no pen samples found (not a UNIPEN file?)', file)
  return kept
}

/** Side of the pendigits writing box; its y axis points up. */
const PENDIGITS_BOX = 500

/**
 * The pendigits training file (UCI Pen-Based Recognition of Handwritten Digits, Alpaydin and
 * Alimoglu, CC BY 4.0): 7,494 digits by 30 writers, ids `pendigits:1` ... `pendigits:30`.
 */
export async function loadPendigits(datasetsDir: string): Promise<PenSample[]> {
  const file = join(datasetsDir, 'pendigits', 'pendigits-orig.tra')
  const text = await readFile(file, 'latin1').catch((error: unknown) => {
    throw new DatasetError(`cannot read the pendigits file: ${String(error)}`, file)
  })
  return parseUnipen(text, file, {
    collection: 'pendigits',
    // ".COMMENT <label> <writer> <n>"
    writerOf: (comment) => comment.split(/\s+/)[1] ?? null,
    flipY: PENDIGITS_BOX,
  })
}

/**
 * UJI Pen Characters v1 (Prat et al., Universitat Jaume I, CC BY 4.0): 11 writers (`ujipenchars:w01`
 * ... `w11`), two samples of each of a-z, A-Z and 0-9 per writer.
 */
export async function loadUjiPenChars(datasetsDir: string): Promise<PenSample[]> {
  const dir = join(datasetsDir, 'ujipenchars')
  const names = (
    await readdir(dir).catch((error: unknown) => {
      throw new DatasetError(`cannot list the UJI pen characters: ${String(error)}`, dir)
    })
  )
    .filter((name) => /^UJIpenchars-w\d+$/.test(name))
    .sort()
  if (names.length === 0) throw new DatasetError('no UJIpenchars-wNN files', dir)
  const samples: PenSample[] = []
  for (const name of names) {
    const file = join(dir, name)
    const text = await readFile(file, 'latin1')
    for (const sample of parseUnipen(text, file, {
      collection: 'ujipenchars',
      fileWriter: name.slice(-3),
    })) {
      samples.push({ ...sample, id: samples.length })
    }
  }
  return samples
}

/** Loads one collection from the shared datasets folder. */
export function loadPenCollection(
  collection: PenCollection,
  datasetsDir: string,
): Promise<PenSample[]> {
  return collection === 'pendigits' ? loadPendigits(datasetsDir) : loadUjiPenChars(datasetsDir)
}
