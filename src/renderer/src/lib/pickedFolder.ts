// A folder chosen (`<input type="file" webkitdirectory>`) or dropped in a browser, turned into
// the files of an upload: each class folder's images with their paths, and what was left out.
import { formatBytes } from '@shared/format'
import { isImageFileName, UPLOAD_LIMITS, type UploadDescription } from '@shared/schemas/dataset'

/** A file with its path in what was picked (`digits/7/a.png`, `/`-separated). */
export interface PickedFile {
  path: string
  file: File
}

/** One image of an upload: its path inside the dataset folder (`7/a.png`) and the file. */
export interface UploadFile {
  rel: string
  file: File
}

/** What to upload, or why there is nothing to. */
export type UploadPlan =
  | {
      ok: true
      description: UploadDescription
      files: UploadFile[]
      /** Files left out, with why (shown to the user). */
      leftOut: { path: string; reason: string }[]
    }
  | { ok: false; message: string }

/** The files of a folder chosen with `<input type="file" webkitdirectory>`. */
export function filesFromInput(files: Iterable<File>): PickedFile[] {
  return [...files].map((file) => ({ path: file.webkitRelativePath || file.name, file }))
}

/** Every entry of a folder (a reader gives them in batches until it gives none). */
async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader()
  const all: FileSystemEntry[] = []
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    )
    if (batch.length === 0) return all
    all.push(...batch)
  }
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name
  if (entry.isDirectory) {
    for (const child of await readAll(entry as FileSystemDirectoryEntry))
      await walk(child, path, out)
  } else if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    )
    out.push({ path, file })
  }
}

/**
 * The files of what was dropped: folders walked through their entries (the browser's only way to
 * see a dropped folder's content), plain files as they are. Read at once: a DataTransfer is only
 * readable during its drop event, so call this synchronously from the handler.
 */
export function filesFromDrop(data: DataTransfer): Promise<PickedFile[]> {
  const entries = [...data.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null)
  if (entries.length && entries.every((entry) => entry !== null)) {
    return (async () => {
      const out: PickedFile[] = []
      for (const entry of entries) await walk(entry!, '', out)
      return out
    })()
  }
  return Promise.resolve([...data.files].map((file) => ({ path: file.name, file })))
}

/** A short stable hash (cyrb53) of a string, as 14 hex digits. */
function hash(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0')
}

/** The name of what was dropped when it was several folders: they are the classes. */
export const DROPPED_NAME = 'Dropped folders'

/**
 * What to upload of the picked files: one folder whose subfolders are the classes (its name is
 * the dataset's), or several folders that are the classes themselves. Hidden files and files
 * that are not images are left out (and said so); so is any image over the upload limit.
 */
export function planUpload(picked: readonly PickedFile[]): UploadPlan {
  const visible = picked.filter((p) => !p.path.split('/').some((part) => part.startsWith('.')))
  if (visible.length === 0) {
    return { ok: false, message: 'The folder is empty: there are no files in it to import.' }
  }
  const tops = new Set(visible.map((p) => p.path.split('/')[0]))
  const single = tops.size === 1 && visible.every((p) => p.path.includes('/'))
  const name = single ? [...tops][0]! : DROPPED_NAME
  const files: UploadFile[] = []
  const leftOut: { path: string; reason: string }[] = []
  let bytes = 0
  for (const { path, file } of visible) {
    const rel = single ? path.slice(name.length + 1) : path
    if (!isImageFileName(rel)) {
      leftOut.push({ path: rel, reason: 'not an image (PNG, JPEG, BMP, GIF, WebP or TIFF)' })
    } else if (!rel.includes('/')) {
      leftOut.push({ path: rel, reason: 'not inside a class folder' })
    } else if (file.size > UPLOAD_LIMITS.fileBytes) {
      leftOut.push({
        path: rel,
        reason: `${formatBytes(file.size)}, over the ${formatBytes(UPLOAD_LIMITS.fileBytes)} an image may be`,
      })
    } else {
      files.push({ rel, file })
      bytes += file.size
    }
  }
  if (files.length === 0) {
    const images = visible.filter((p) => isImageFileName(p.path)).length
    return {
      ok: false,
      message:
        images === 0
          ? `“${name}” has no images (PNG, JPEG, BMP, GIF, WebP or TIFF) to import.`
          : `“${name}” has no class folders: put the images of each class in a subfolder named after the class.`,
    }
  }
  if (bytes > UPLOAD_LIMITS.totalBytes) {
    return {
      ok: false,
      message:
        `“${name}” is ${formatBytes(bytes)}; a browser upload takes at most ` +
        `${formatBytes(UPLOAD_LIMITS.totalBytes)}. Type its path instead: the server runs on this machine.`,
    }
  }
  if (files.length > UPLOAD_LIMITS.files) {
    return {
      ok: false,
      message: `“${name}” has ${files.length.toLocaleString('en-US')} images; a browser upload takes at most ${UPLOAD_LIMITS.files.toLocaleString('en-US')}. Type its path instead.`,
    }
  }
  const fingerprint = hash(
    files
      .map(({ rel, file }) => `${rel}\u0000${file.size}\u0000${file.lastModified}`)
      .sort()
      .join('\n'),
  )
  return {
    ok: true,
    description: { name, files: files.length, bytes, fingerprint },
    files,
    leftOut,
  }
}
