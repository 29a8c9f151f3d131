// A minimal ZIP reader for Python wheels: reads the central directory and streams chosen entries
// out (stored or deflated), without loading the archive into memory (TensorFlow's wheel is 270 MB
// and holds an 800 MB library). ZIP64 is handled for archives and entries over 4 GB.
import { createReadStream, createWriteStream, type Stats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createInflateRaw } from 'node:zlib'

/** One file in the archive. */
export interface ZipEntry {
  name: string
  /** 0 stored, 8 deflated. */
  method: number
  compressedSize: number
  size: number
  /** Offset of the entry's local header. */
  headerOffset: number
}

const EOCD_SIGNATURE = 0x06054b50
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50
const ZIP64_EOCD_SIGNATURE = 0x06064b50
const CENTRAL_SIGNATURE = 0x02014b50
const LOCAL_SIGNATURE = 0x04034b50
const MAX_COMMENT = 0xffff

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length)
  const { bytesRead } = await file.read(buffer, 0, length, position)
  if (bytesRead !== length) throw new Error('unexpected end of file')
  return buffer
}

/** An opened ZIP archive; `close` it when done. */
export class ZipReader {
  private constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    /** Every entry, in central-directory order. */
    readonly entries: ZipEntry[],
  ) {}

  /** Opens `path` and reads its central directory. Throws naming the file when it is not a ZIP. */
  static async open(path: string): Promise<ZipReader> {
    const file = await open(path, 'r')
    try {
      const stat: Stats = await file.stat()
      const entries = await readCentralDirectory(file, stat.size).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error)
        throw new Error(`${path} is not a readable ZIP archive: ${message}`)
      })
      return new ZipReader(file, path, entries)
    } catch (error) {
      await file.close()
      throw error
    }
  }

  /** The entry called `name`, if any. */
  find(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name)
  }

  /** The whole contents of a (small) entry. */
  async read(entry: ZipEntry): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of await this.stream(entry)) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  /** Writes an entry to `destination`, streaming; checks the size it ends with. */
  async extract(entry: ZipEntry, destination: string): Promise<void> {
    let written = 0
    await pipeline(
      await this.stream(entry),
      async function* (source) {
        for await (const chunk of source) {
          written += (chunk as Buffer).length
          yield chunk
        }
      },
      createWriteStream(destination),
    )
    if (written !== entry.size) {
      throw new Error(
        `${this.path}: ${entry.name} unpacked to ${written} bytes, expected ${entry.size}`,
      )
    }
  }

  async close(): Promise<void> {
    await this.file.close()
  }

  private async stream(entry: ZipEntry): Promise<NodeJS.ReadableStream> {
    const header = await readAt(this.file, entry.headerOffset, 30)
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) {
      throw new Error(`${this.path}: bad local header for ${entry.name}`)
    }
    const dataStart = entry.headerOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28)
    if (entry.compressedSize === 0) return Readable.from([])
    const raw = createReadStream(this.path, {
      start: dataStart,
      end: dataStart + entry.compressedSize - 1,
    })
    if (entry.method === 0) return raw
    if (entry.method === 8) return raw.pipe(createInflateRaw())
    throw new Error(`${this.path}: ${entry.name} uses compression method ${entry.method}`)
  }
}

async function readCentralDirectory(file: FileHandle, fileSize: number): Promise<ZipEntry[]> {
  const tailLength = Math.min(fileSize, 22 + MAX_COMMENT)
  const tail = await readAt(file, fileSize - tailLength, tailLength)
  let eocd = -1
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i
      break
    }
  }
  if (eocd < 0) throw new Error('no end-of-central-directory record')
  let count = tail.readUInt16LE(eocd + 10)
  let size = tail.readUInt32LE(eocd + 12)
  let offset = tail.readUInt32LE(eocd + 16)
  const locator = eocd - 20
  if (locator >= 0 && tail.readUInt32LE(locator) === ZIP64_LOCATOR_SIGNATURE) {
    const zip64Offset = Number(tail.readBigUInt64LE(locator + 8))
    const record = await readAt(file, zip64Offset, 56)
    if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw new Error('bad ZIP64 record')
    count = Number(record.readBigUInt64LE(32))
    size = Number(record.readBigUInt64LE(40))
    offset = Number(record.readBigUInt64LE(48))
  }
  const directory = await readAt(file, offset, size)
  const entries: ZipEntry[] = []
  let pos = 0
  for (let i = 0; i < count; i++) {
    if (directory.readUInt32LE(pos) !== CENTRAL_SIGNATURE) throw new Error('bad central directory')
    const method = directory.readUInt16LE(pos + 10)
    let compressedSize = directory.readUInt32LE(pos + 20)
    let entrySize = directory.readUInt32LE(pos + 24)
    const nameLength = directory.readUInt16LE(pos + 28)
    const extraLength = directory.readUInt16LE(pos + 30)
    const commentLength = directory.readUInt16LE(pos + 32)
    let headerOffset = directory.readUInt32LE(pos + 42)
    const name = directory.toString('utf8', pos + 46, pos + 46 + nameLength)
    // ZIP64 extra field (id 1): the 64-bit values of whichever fields are 0xffffffff, in order.
    let extra = pos + 46 + nameLength
    const extraEnd = extra + extraLength
    while (extra + 4 <= extraEnd) {
      const id = directory.readUInt16LE(extra)
      const length = directory.readUInt16LE(extra + 2)
      if (id === 1) {
        let field = extra + 4
        const next = (): number => {
          const value = Number(directory.readBigUInt64LE(field))
          field += 8
          return value
        }
        if (entrySize === 0xffffffff) entrySize = next()
        if (compressedSize === 0xffffffff) compressedSize = next()
        if (headerOffset === 0xffffffff) headerOffset = next()
      }
      extra += 4 + length
    }
    entries.push({ name, method, compressedSize, size: entrySize, headerOffset })
    pos = extraEnd + commentLength
  }
  return entries
}
