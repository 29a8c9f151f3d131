import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { describe, expect, it } from 'vitest'

const SRC = resolve(__dirname, '../../../src')

async function sources(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await sources(path)))
    else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

const importsOf = (text: string): string[] =>
  [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1])

describe('layering', () => {
  it.each(['main/services', 'main/server', 'engine/host'])(
    '%s never imports Electron',
    async (dir) => {
      for (const file of await sources(join(SRC, dir))) {
        const imports = importsOf(await readFile(file, 'utf8'))
        expect(
          imports.filter((name) => name === 'electron' || name.startsWith('electron/')),
          file,
        ).toEqual([])
        expect(
          imports.filter((name) => name.includes('/electron/')),
          file,
        ).toEqual([])
      }
    },
  )

  it('services and server reach the engine only through the host protocol', async () => {
    for (const dir of ['main/services', 'main/server', 'main/electron']) {
      for (const file of await sources(join(SRC, dir))) {
        const engine = importsOf(await readFile(file, 'utf8')).filter(
          (name) => name.startsWith('@engine/') || name.includes('/engine/'),
        )
        expect(
          engine.every((name) => name === '@engine/host/protocol'),
          `${file}: ${engine}`,
        ).toBe(true)
      }
    }
  })
})
