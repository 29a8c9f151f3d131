import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import {
  checkWritableFolder,
  FileSystemError,
  fsProblem,
  makeDirs,
  readRegularFile,
  toFileSystemError,
  writeFileAtomic,
} from '@shared/node/files'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inklab-files-'))
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

describe('readRegularFile', () => {
  it.runIf(process.platform !== 'win32')(
    'refuses a FIFO named like an image at once instead of waiting for a writer',
    async () => {
      const fifo = join(dir, 'digit.png')
      execFileSync('mkfifo', [fifo])
      await expect(readRegularFile(fifo)).rejects.toThrow(
        /digit\.png: is a named pipe \(FIFO\), not a regular file/,
      )
    },
  )

  it('refuses a folder and a file over the size limit, and reads the rest', async () => {
    await mkdir(join(dir, 'folder.png'))
    await expect(readRegularFile(join(dir, 'folder.png'))).rejects.toThrow(/not a regular file/)
    await writeFile(join(dir, 'big.png'), Buffer.alloc(2048))
    await expect(readRegularFile(join(dir, 'big.png'), { maxBytes: 1024 })).rejects.toThrow(
      /big\.png: is 2\.0 KB, more than the 1\.0 KB accepted/,
    )
    expect(await readRegularFile(join(dir, 'big.png'), { maxBytes: 4096 })).toHaveLength(2048)
    await expect(readRegularFile(join(dir, 'missing.png'))).rejects.toMatchObject({
      name: 'FileSystemError',
      code: 'ENOENT',
    })
  })
})

describe('makeDirs and checkWritableFolder', () => {
  it('creates nested folders and names a file in the way', async () => {
    await makeDirs(join(dir, 'a', 'b', 'c'))
    await makeDirs(join(dir, 'a', 'b', 'c'))
    await writeFile(join(dir, 'f'), 'x')
    await expect(makeDirs(join(dir, 'f', 'g'))).rejects.toThrow(/f: is a file, not a folder/)
    await checkWritableFolder(join(dir, 'a', 'new'))
    await expect(checkWritableFolder(join(dir, 'f', 'g'))).rejects.toThrow(/is a file/)
  })

  it.runIf(process.platform === 'linux')('fails under /proc instead of looping', async () => {
    await expect(makeDirs('/proc/inklab-x/y')).rejects.toThrow(
      /\/proc\/inklab-x: a folder cannot be created here/,
    )
  })
})

describe('toFileSystemError', () => {
  it('turns system errors into sentences and leaves other errors alone', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      path: '/data/run.json',
    })
    const mapped = toFileSystemError(full)
    expect(mapped).toBeInstanceOf(FileSystemError)
    expect((mapped as Error).message).toBe('/data/run.json: the disk is full')
    expect(
      (toFileSystemError(Object.assign(new Error('x'), { code: 'EROFS' }), '/m') as Error).message,
    ).toBe('/m: the location is read-only')
    const plain = new Error('plain')
    expect(toFileSystemError(plain)).toBe(plain)
  })
})

describe('fsProblem', () => {
  it('says what went wrong without the path', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
    })
    expect(fsProblem(full)).toBe('the disk is full')
    expect(fsProblem(new FileSystemError('/m', 'EROFS'))).toBe('the location is read-only')
    expect(fsProblem(new Error('the HDF5 writer failed'))).toBe('the HDF5 writer failed')
  })
})
