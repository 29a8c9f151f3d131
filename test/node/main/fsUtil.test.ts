import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { writeFileAtomic } from '../../../src/main/services/fsUtil'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inklab-fsutil-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A rename that fails `failures` times with `code` (as an antivirus holding the file would). */
function flakyRename(failures: number, code: string) {
  const calls: string[] = []
  const fn = async (from: string, to: string): Promise<void> => {
    calls.push(to)
    if (calls.length <= failures) {
      throw Object.assign(new Error(`${code}: operation not permitted, rename`), { code })
    }
    await rename(from, to)
  }
  return { fn, calls }
}

describe('writeFileAtomic', () => {
  it('retries a rename that Windows refuses for a moment (EPERM, EACCES, EBUSY)', async () => {
    for (const code of ['EPERM', 'EACCES', 'EBUSY']) {
      const file = join(dir, `${code}.json`)
      const flaky = flakyRename(2, code)
      await writeFileAtomic(file, 'new', { rename: flaky.fn, platform: 'win32' })
      expect(flaky.calls).toHaveLength(3)
      expect(await readFile(file, 'utf8')).toBe('new')
    }
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('gives up after a few tries, and does not retry elsewhere or for other errors', async () => {
    const file = join(dir, 'x.json')
    const always = flakyRename(100, 'EPERM')
    await expect(
      writeFileAtomic(file, 'new', { rename: always.fn, platform: 'win32' }),
    ).rejects.toThrow(/EPERM/)
    expect(always.calls.length).toBeGreaterThan(1)
    expect(always.calls.length).toBeLessThan(10)

    const linux = flakyRename(1, 'EPERM')
    await expect(
      writeFileAtomic(file, 'new', { rename: linux.fn, platform: 'linux' }),
    ).rejects.toThrow(/EPERM/)
    expect(linux.calls).toHaveLength(1)

    const other = flakyRename(1, 'ENOSPC')
    await expect(
      writeFileAtomic(file, 'new', { rename: other.fn, platform: 'win32' }),
    ).rejects.toThrow(/ENOSPC/)
    expect(other.calls).toHaveLength(1)
    expect(await readdir(dir)).toEqual([])
  })
})
