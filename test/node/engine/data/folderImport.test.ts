import { execFileSync } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { ImportProgress } from '@shared/schemas/dataset'
import { importFolder } from '@engine/data/folderImport'
import { DatasetError } from '@engine/data/types'

import { centreOfMass, drawGlyph, GLYPH_FOUR, makeTempDir, type Stroke } from './helpers'

const BAR: Stroke[] = [[0.5, 0.1, 0.5, 0.9]]

function glyphRaw(strokes: Stroke[], size = 40) {
  const img = drawGlyph({ width: size, height: size, strokes, thickness: 4, ink: 0, paper: 255 })
  return sharp(Buffer.from(img.data), { raw: { width: size, height: size, channels: 1 } })
}

/** A 24-bit BMP of a vertical black bar on white (sharp cannot write BMP). */
function barBmp(size = 16): Uint8Array {
  const stride = Math.ceil((size * 3) / 4) * 4
  const out = new Uint8Array(54 + stride * size).fill(255)
  const v = new DataView(out.buffer)
  out.set([0x42, 0x4d])
  v.setUint32(10, 54, true)
  v.setUint32(14, 40, true)
  v.setInt32(18, size, true)
  v.setInt32(22, size, true)
  v.setUint16(26, 1, true)
  v.setUint16(28, 24, true)
  v.setUint32(30, 0, true)
  for (let y = 2; y < size - 2; y++) out.fill(0, 54 + y * stride + 7 * 3, 54 + y * stride + 9 * 3)
  return out
}

async function write(path: string, data: Uint8Array | Promise<Buffer>): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true })
  await writeFile(path, await data)
}

describe('importFolder', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  beforeAll(async () => {
    tmp = await makeTempDir()
  })
  afterAll(() => tmp.cleanup())

  it('imports class folders in natural order, recursively, and lists every unusable file', async () => {
    const root = join(tmp.dir, 'mixed')
    await write(join(root, '0', 'a.png'), glyphRaw(GLYPH_FOUR).png().toBuffer())
    await write(join(root, '0', 'b.jpg'), glyphRaw(GLYPH_FOUR).jpeg().toBuffer())
    await write(join(root, '0', 'deeper', 'c.bmp'), barBmp())
    await write(
      join(root, '0', 'blank.png'),
      sharp({ create: { width: 20, height: 20, channels: 3, background: '#fff' } })
        .png()
        .toBuffer(),
    )
    await write(join(root, '0', 'notes.txt'), new TextEncoder().encode('hello'))
    await write(join(root, '0', 'broken.png'), new TextEncoder().encode('not really a png'))
    await write(join(root, '0', '.hidden.png'), glyphRaw(BAR).png().toBuffer())
    await write(join(root, '10', 'd.PNG'), glyphRaw(BAR).png().toBuffer())
    await write(join(root, '10', 'e.webp'), glyphRaw(BAR).webp().toBuffer())
    await write(join(root, '2', 'f.gif'), glyphRaw(GLYPH_FOUR).gif().toBuffer())
    await write(join(root, '2', 'g.TIFF'), glyphRaw(GLYPH_FOUR).tiff().toBuffer())
    await write(join(root, 'empty', 'readme.md'), new TextEncoder().encode('#'))
    await write(join(root, 'stray.png'), glyphRaw(BAR).png().toBuffer())

    const events: ImportProgress[] = []
    const ds = await importFolder(root, { onProgress: (p) => events.push(p) })
    expect(ds.labels).toEqual(['0', '2', '10'])
    expect(ds.train.count).toBe(7)
    expect(Array.from(ds.train.labels)).toEqual([0, 0, 0, 1, 1, 2, 2])
    expect(ds.test).toBeUndefined()
    expect(ds.source).toEqual({ kind: 'folder', path: root })
    expect(ds.name).toBe('mixed')

    const reasons = Object.fromEntries(ds.skipped.map((s) => [s.file, s.reason]))
    expect(reasons['stray.png']).toMatch(/not inside a class folder/)
    expect(reasons['0/notes.txt']).toBe('unsupported file type (.txt)')
    expect(reasons['0/blank.png']).toBe('no ink found (blank image)')
    expect(reasons['0/broken.png']).toMatch(/unsupported image format/)
    expect(reasons['empty/readme.md']).toBe('unsupported file type (.md)')
    expect(reasons['empty/']).toBe('class folder has no usable images')
    expect(ds.skipped.some((s) => s.file.includes('.hidden'))).toBe(false)
    expect(ds.skipped).toHaveLength(6)

    // Every sample is a preprocessed MNIST-style image: ink present and centred by mass.
    for (let i = 0; i < ds.train.count; i++) {
      const com = centreOfMass(ds.train.images.subarray(i * 784, (i + 1) * 784), 28, 28)
      expect(Math.abs(com.x - 14)).toBeLessThanOrEqual(1)
      expect(Math.abs(com.y - 14)).toBeLessThanOrEqual(1)
    }

    expect(events[0].phase).toBe('scanning')
    const decoding = events.filter((e) => e.phase === 'decoding')
    expect(decoding.at(-1)).toMatchObject({ done: 9, total: 9 })
    expect(events.at(-1)).toEqual({ phase: 'done', done: 9, total: 9 })
  })

  it('does not follow symbolic links to folders (a loop stays finite), but reads linked files', async () => {
    const root = join(tmp.dir, 'linked')
    await write(join(root, 'a', '1.png'), glyphRaw(BAR).png().toBuffer())
    await write(join(root, 'b', '1.png'), glyphRaw(GLYPH_FOUR).png().toBuffer())
    await symlink('..', join(root, 'a', 'up'), 'dir')
    await symlink(join(root, 'b'), join(root, 'a', 'other'), 'dir')
    await symlink(join(root, 'b'), join(root, 'c'), 'dir')
    await symlink(join(root, 'b', '1.png'), join(root, 'a', '2.png'), 'file')

    const ds = await importFolder(root)
    expect(ds.labels).toEqual(['a', 'b'])
    expect(Array.from(ds.train.labels)).toEqual([0, 0, 1])
    const reasons = Object.fromEntries(ds.skipped.map((s) => [s.file, s.reason]))
    expect(reasons['a/up/']).toBe('symbolic link to a folder: not followed')
    expect(reasons['a/other/']).toBe('symbolic link to a folder: not followed')
    expect(reasons['c/']).toBe('symbolic link to a folder: not followed')
    expect(ds.skipped).toHaveLength(3)
  })

  it.runIf(process.platform !== 'win32')(
    'skips a FIFO and an empty file named like images instead of hanging on them',
    async () => {
      const root = join(tmp.dir, 'odd')
      await write(join(root, 'a', '1.png'), glyphRaw(BAR).png().toBuffer())
      await write(join(root, 'b', '1.png'), glyphRaw(GLYPH_FOUR).png().toBuffer())
      execFileSync('mkfifo', [join(root, 'a', 'pipe.png')])
      await writeFile(join(root, 'b', 'zero.png'), '')
      const ds = await importFolder(root)
      expect(ds.train.count).toBe(2)
      const reasons = Object.fromEntries(ds.skipped.map((s) => [s.file, s.reason]))
      expect(reasons['a/pipe.png']).toBe('not a regular file (a pipe, socket or device)')
      expect(reasons['b/zero.png']).toBe('empty file (0 bytes)')
    },
  )

  it('refuses a missing folder, a file, no class folders, and fewer than two usable classes', async () => {
    await expect(importFolder(join(tmp.dir, 'nope'))).rejects.toThrow('nope: folder not found')
    const file = join(tmp.dir, 'file.png')
    await write(file, glyphRaw(BAR).png().toBuffer())
    await expect(importFolder(file)).rejects.toThrow('file.png: not a folder')

    const flat = join(tmp.dir, 'flat')
    await write(join(flat, 'a.png'), glyphRaw(BAR).png().toBuffer())
    await expect(importFolder(flat)).rejects.toThrow(/no class folders found/)

    const lonely = join(tmp.dir, 'lonely')
    await write(join(lonely, 'cats', 'a.png'), glyphRaw(BAR).png().toBuffer())
    await write(join(lonely, 'dogs', 'a.txt'), new TextEncoder().encode('x'))
    await write(
      join(lonely, 'birds', 'blank.png'),
      sharp({ create: { width: 9, height: 9, channels: 3, background: '#fff' } })
        .png()
        .toBuffer(),
    )
    const err = await importFolder(lonely).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatasetError)
    expect((err as Error).message).toMatch(
      /only "cats" has any; no usable images in: "birds", "dogs"/,
    )

    const none = join(tmp.dir, 'none')
    await write(join(none, 'a', 'x.txt'), new TextEncoder().encode('x'))
    await write(join(none, 'b', 'y.txt'), new TextEncoder().encode('y'))
    await expect(importFolder(none)).rejects.toThrow(/no usable images found/)
  })

  describe('with many files', () => {
    const root = () => join(tmp.dir, 'many')
    const N = 300
    beforeAll(async () => {
      const png = await glyphRaw(GLYPH_FOUR, 32).png().toBuffer()
      const bar = await glyphRaw(BAR, 32).png().toBuffer()
      for (let i = 0; i < N; i++)
        await write(join(root(), i % 2 ? 'four' : 'bar', `${i}.png`), i % 2 ? png : bar)
    })

    it(`imports ${N} small PNGs in a few seconds`, async () => {
      const started = performance.now()
      const ds = await importFolder(root())
      const seconds = (performance.now() - started) / 1000
      expect(ds.train.count).toBe(N)
      expect(ds.labels).toEqual(['bar', 'four'])
      expect(seconds).toBeLessThan(15)
    })

    it('stops promptly with an AbortError when cancelled, and refuses an aborted signal up front', async () => {
      const controller = new AbortController()
      let abortedAt = 0
      let lastDone = 0
      const started = performance.now()
      const promise = importFolder(root(), {
        signal: controller.signal,
        concurrency: 2,
        onProgress: (p) => {
          if (p.phase === 'decoding') lastDone = p.done
          if (p.phase === 'decoding' && p.done === 0) {
            setTimeout(() => {
              abortedAt = performance.now()
              controller.abort()
            }, 20)
          }
        },
      })
      const err = await promise.catch((e: unknown) => e)
      const rejectedAt = performance.now()
      expect((err as Error).name).toBe('AbortError')
      expect(abortedAt).toBeGreaterThan(started)
      expect(rejectedAt - abortedAt).toBeLessThan(100)
      expect(lastDone).toBeLessThan(N)
      await expect(importFolder(root(), { signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      })
    })
  })
})
