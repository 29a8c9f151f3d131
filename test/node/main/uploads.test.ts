import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { uploadPathParts, UploadService } from '../../../src/main/services/uploads'

let dataDir: string
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'inklab-uploads-'))
})
afterEach(() => rm(dataDir, { recursive: true, force: true }))

const description = { name: 'digits', files: 2, bytes: 10, fingerprint: 'x' }

describe('uploads', () => {
  it('accepts relative image paths only', () => {
    expect(uploadPathParts('7/sub/a.png')).toEqual(['7', 'sub', 'a.png'])
    for (const bad of [
      '/a.png',
      'a//b.png',
      './a.png',
      'a/../b.png',
      'a\\\\b.png',
      'a:b.png',
      'a\u0001.png',
    ]) {
      expect(() => uploadPathParts(bad), bad).toThrow(/not a relative file path|characters/)
    }
    expect(() => uploadPathParts('a/readme.md')).toThrow(/not an image file/)
  })

  it('keeps no part of a file whose body stops short or runs long', async () => {
    const uploads = new UploadService(dataDir)
    await uploads.init()
    const { uploadId } = await uploads.start(description)
    await expect(
      uploads.receive(uploadId, 'a/1.png', Readable.from([Buffer.from('abc')]), 5),
    ).rejects.toThrow(/stopped after 3 of 5 bytes/)
    await expect(
      uploads.receive(uploadId, 'a/1.png', Readable.from([Buffer.from('abcdef')]), 5),
    ).rejects.toThrow(/more bytes came than announced/)
    expect(readdirSync(join(dataDir, 'uploads', uploadId, 'a'))).toEqual([])
    await uploads.receive(uploadId, 'a/1.png', Readable.from([Buffer.from('abcde')]), 5)
    expect(readdirSync(join(dataDir, 'uploads', uploadId, 'a'))).toEqual(['1.png'])
  })

  it('removes what a previous session left, and discarded uploads', async () => {
    const first = new UploadService(dataDir)
    await first.init()
    const { uploadId } = await first.start(description)
    await first.receive(uploadId, 'a/1.png', Readable.from([Buffer.from('ab')]), 2)
    const again = new UploadService(dataDir)
    await again.init()
    expect(existsSync(join(dataDir, 'uploads', uploadId))).toBe(false)
    const next = await again.start(description)
    expect(await again.discard(next.uploadId)).toEqual({ ok: true })
    expect(readdirSync(join(dataDir, 'uploads'))).toEqual([])
    expect(await again.discard(next.uploadId)).toEqual({ ok: false })
  })
})
