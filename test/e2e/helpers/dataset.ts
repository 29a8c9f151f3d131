import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import sharp from 'sharp'

import { seededRandom } from '../../../scripts/lib/padInk.mjs'

/** The classes of the generated folder dataset, in the order the importer sorts them. */
export const SHAPE_CLASSES = ['circle', 'cross', 'line'] as const
export type ShapeClass = (typeof SHAPE_CLASSES)[number]

/** Files in the generated dataset that the importer must skip, and why (a substring of the reason). */
export const EXPECTED_SKIPPED = [
  { file: 'circle/broken.png', reason: /./ },
  { file: 'cross/notes.txt', reason: /unsupported file type/ },
] as const

/** What `generateShapeDataset` wrote. */
export interface ShapeDataset {
  dir: string
  /** Usable images per class. */
  perClass: number
  /** Usable images in total. */
  total: number
}

function shapeSvg(shape: ShapeClass, random: () => number): string {
  const size = Math.round(48 + random() * 112) // 48..160 px canvases
  const stroke = (size * (0.05 + random() * 0.08)).toFixed(1)
  const darkInk = random() < 0.6 // polarity: dark ink on light paper, or light ink on dark paper
  const ink = darkInk ? '#111' : '#f4f4f4'
  const paper = darkInk ? '#fdfdf8' : '#1c1c22'
  // The shape fills 35..75% of the canvas, somewhere off-centre.
  const r = size * (0.18 + random() * 0.2)
  const cx = size / 2 + (random() - 0.5) * (size - 2 * r) * 0.8
  const cy = size / 2 + (random() - 0.5) * (size - 2 * r) * 0.8
  const tilt = (random() - 0.5) * 40
  let body: string
  if (shape === 'circle') {
    const ry = r * (0.75 + random() * 0.25)
    body = `<ellipse cx="${cx}" cy="${cy}" rx="${r}" ry="${ry}" transform="rotate(${tilt} ${cx} ${cy})"/>`
  } else if (shape === 'cross') {
    body =
      `<g transform="rotate(${45 + tilt} ${cx} ${cy})">` +
      `<line x1="${cx - r}" y1="${cy}" x2="${cx + r}" y2="${cy}"/>` +
      `<line x1="${cx}" y1="${cy - r}" x2="${cx}" y2="${cy + r}"/></g>`
  } else {
    body = `<line x1="${cx}" y1="${cy - r}" x2="${cx}" y2="${cy + r}" transform="rotate(${tilt * 2} ${cx} ${cy})"/>`
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
    `<rect width="100%" height="100%" fill="${paper}"/>` +
    `<g fill="none" stroke="${ink}" stroke-width="${stroke}" stroke-linecap="round">${body}</g></svg>`
  )
}

/**
 * Writes a folder dataset to a new temporary directory: one subfolder per shape class with
 * `perClass` drawings each (PNG and JPEG, sizes 48..160 px, varied stroke, position, tilt and
 * polarity), plus a corrupt PNG (`circle/broken.png`) and a text file (`cross/notes.txt`).
 */
export async function generateShapeDataset(perClass = 40, seed = 7): Promise<ShapeDataset> {
  const dir = mkdtempSync(join(tmpdir(), 'inklab-e2e-shapes-'))
  const random = seededRandom(seed)
  for (const shape of SHAPE_CLASSES) {
    const classDir = join(dir, shape)
    mkdirSync(classDir)
    for (let i = 0; i < perClass; i++) {
      const image = sharp(Buffer.from(shapeSvg(shape, random)))
      const jpeg = i % 3 === 2
      const file = join(classDir, `${shape}-${String(i).padStart(3, '0')}.${jpeg ? 'jpg' : 'png'}`)
      await (jpeg ? image.jpeg({ quality: 85 }) : image.png()).toFile(file)
    }
  }
  // A PNG signature followed by garbage: the decoder must reject it and the import go on.
  writeFileSync(
    join(dir, 'circle', 'broken.png'),
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(64, 7),
    ]),
  )
  writeFileSync(join(dir, 'cross', 'notes.txt'), 'not an image\n')
  return { dir, perClass, total: perClass * SHAPE_CLASSES.length }
}
