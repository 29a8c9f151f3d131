import { createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import { formatBytes } from '@shared/format'
import { isImageFileName, UPLOAD_LIMITS, type UploadDescription } from '@shared/schemas/dataset'

import { NotFoundError, UserError } from './errors'
import { isSafeId, newId } from './fsUtil'

/** An upload nobody touched for this long is abandoned (its files are removed). */
export const UPLOAD_IDLE_MS = 60 * 60 * 1000

/** A file refused by an upload: HTTP-like status and a sentence that names it. */
export class UploadError extends Error {
  constructor(
    readonly status: 400 | 404 | 413 | 415,
    message: string,
  ) {
    super(message)
    this.name = 'UploadError'
  }
}

/** An upload in progress: where its files go and how much has arrived. */
interface Upload {
  id: string
  dir: string
  description: UploadDescription
  files: number
  bytes: number
  touched: number
}

/**
 * Checks a relative path sent by a browser (`class/sub/file.png`, `/`-separated) and returns
 * its parts; throws an UploadError for anything that could leave the upload folder or is not an
 * image file.
 */
export function uploadPathParts(rel: string): string[] {
  const parts = rel.split('/')
  const bad = (why: string) => new UploadError(400, `"${rel}": ${why}`)
  if (rel.length > 1024 || parts.length > 32) throw bad('the path is too long')
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') throw bad('not a relative file path')
    if (part.length > 255) throw bad('a name in the path is too long')
    // eslint-disable-next-line no-control-regex -- control characters are what this refuses
    if (/[\\\u0000-\u001f:*?"<>|]/.test(part))
      throw bad('a name in the path has characters files cannot have')
  }
  if (!isImageFileName(parts.at(-1)!)) {
    throw new UploadError(415, `"${rel}": not an image file (PNG, JPEG, BMP, GIF, WebP or TIFF)`)
  }
  return parts
}

/**
 * Folders uploaded from a browser in serve mode, on their way to an import: each upload is a
 * folder under `<dataDir>/uploads/<id>/`, filled file by file (streamed to disk, each within
 * `UPLOAD_LIMITS`), imported by the dataset service through the same pipeline as a folder on
 * disk, then removed. Uploads left over by a previous session or idle for an hour are removed.
 */
export class UploadService {
  private readonly root: string
  private readonly uploads = new Map<string, Upload>()

  constructor(dataDir: string) {
    this.root = join(dataDir, 'uploads')
  }

  /** Removes whatever a previous session left (an upload never outlives its server). */
  async init(): Promise<void> {
    await rm(this.root, { recursive: true, force: true })
    await mkdir(this.root, { recursive: true })
  }

  /** Opens an upload for a folder described by the browser; refuses one over the limits. */
  async start(description: UploadDescription): Promise<{ uploadId: string }> {
    await this.dropIdle()
    if (description.files > UPLOAD_LIMITS.files) {
      throw new UserError(
        `"${description.name}" has ${description.files.toLocaleString('en-US')} images; an upload ` +
          `takes at most ${UPLOAD_LIMITS.files.toLocaleString('en-US')}: import it by its path instead`,
      )
    }
    if (description.bytes > UPLOAD_LIMITS.totalBytes) {
      throw new UserError(
        `"${description.name}" is ${formatBytes(description.bytes)}; an upload takes at most ` +
          `${formatBytes(UPLOAD_LIMITS.totalBytes)}: import it by its path instead`,
      )
    }
    const id = newId('upload-')
    const dir = join(this.root, id)
    await mkdir(dir, { recursive: true })
    this.uploads.set(id, { id, dir, description, files: 0, bytes: 0, touched: Date.now() })
    return { uploadId: id }
  }

  private upload(id: string): Upload {
    const upload = isSafeId(id) ? this.uploads.get(id) : undefined
    if (!upload) throw new NotFoundError(`no upload with id "${id}" (it finished or was abandoned)`)
    upload.touched = Date.now()
    return upload
  }

  /**
   * Streams one file of upload `id` to disk at `rel`; `length` is its declared size. The file
   * appears whole or not at all: it is written beside its place and renamed into it.
   */
  async receive(
    id: string,
    rel: string,
    body: Readable,
    length: number,
  ): Promise<{ bytes: number }> {
    const upload = this.upload(id)
    const parts = uploadPathParts(rel)
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new UploadError(400, `"${rel}": the request does not say how big the file is`)
    }
    if (length > UPLOAD_LIMITS.fileBytes) {
      throw new UploadError(
        413,
        `"${rel}" is ${formatBytes(length)}; an image file may be at most ${formatBytes(UPLOAD_LIMITS.fileBytes)}`,
      )
    }
    if (upload.bytes + length > UPLOAD_LIMITS.totalBytes || upload.files >= UPLOAD_LIMITS.files) {
      throw new UploadError(
        413,
        `the upload is over its limit of ${formatBytes(UPLOAD_LIMITS.totalBytes)}`,
      )
    }
    const target = join(upload.dir, ...parts)
    if (!target.startsWith(upload.dir + sep))
      throw new UploadError(400, `"${rel}": not inside the upload`)
    await mkdir(dirname(target), { recursive: true })
    const partial = `${target}.${process.pid}-${Date.now().toString(36)}.part`
    let received = 0
    const counted = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        received += chunk.length
        if (received > length)
          throw new UploadError(400, `"${rel}": more bytes came than announced`)
        yield chunk
      }
    }
    try {
      await pipeline(body, counted, createWriteStream(partial, { flags: 'wx' }))
      if (received !== length) {
        throw new UploadError(
          400,
          `"${rel}": the upload stopped after ${received} of ${length} bytes`,
        )
      }
      await rename(partial, target)
    } catch (error) {
      await rm(partial, { force: true })
      throw error
    }
    upload.files += 1
    upload.bytes += received
    return { bytes: received }
  }

  /** The folder of upload `id` and what the browser said about it, once its files arrived. */
  async finish(id: string): Promise<{ dir: string; description: UploadDescription }> {
    const upload = this.upload(id)
    if (upload.files === 0) {
      throw new UserError(`"${upload.description.name}": no image file arrived, nothing to import`)
    }
    const info = await stat(upload.dir).catch(() => null)
    if (!info?.isDirectory()) throw new NotFoundError(`the files of upload "${id}" are gone`)
    return { dir: upload.dir, description: upload.description }
  }

  /** Removes upload `id` and its files (imported, cancelled or failed). */
  async discard(id: string): Promise<{ ok: boolean }> {
    const upload = isSafeId(id) ? this.uploads.get(id) : undefined
    if (!upload) return { ok: false }
    this.uploads.delete(id)
    await rm(upload.dir, { recursive: true, force: true })
    return { ok: true }
  }

  private async dropIdle(): Promise<void> {
    const now = Date.now()
    for (const upload of [...this.uploads.values()]) {
      if (now - upload.touched > UPLOAD_IDLE_MS) await this.discard(upload.id)
    }
    // Folders no upload owns (a failed start) go too.
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      if (!this.uploads.has(name)) await rm(join(this.root, name), { recursive: true, force: true })
    }
  }
}
