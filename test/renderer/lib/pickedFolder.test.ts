import { describe, expect, it } from 'vitest'

import { DROPPED_NAME, filesFromDrop, filesFromInput, planUpload } from '@renderer/lib/pickedFolder'

function file(name: string, size = 4, lastModified = 1): File {
  return new File(['x'.repeat(size)], name, { lastModified })
}

/** A dropped folder as the browser hands it over: entries read in batches of two. */
function folderEntry(name: string, children: (FileSystemEntry | File)[]): FileSystemEntry {
  const entries = children.map((child) =>
    child instanceof File
      ? ({
          name: child.name,
          isFile: true,
          isDirectory: false,
          file: (ok: (f: File) => void) => ok(child),
        } as unknown as FileSystemEntry)
      : child,
  )
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader: () => {
      let at = 0
      return {
        readEntries: (ok: (batch: FileSystemEntry[]) => void) => {
          ok(entries.slice(at, at + 2))
          at += 2
        },
      }
    },
  } as unknown as FileSystemEntry
}

function dataTransfer(entries: FileSystemEntry[]): DataTransfer {
  return {
    items: entries.map((entry) => ({ kind: 'file', webkitGetAsEntry: () => entry })),
    files: [],
  } as unknown as DataTransfer
}

describe('picked folders', () => {
  it('walks a dropped folder through every batch of its entries', async () => {
    const drop = dataTransfer([
      folderEntry('digits', [
        folderEntry('0', [file('a.png'), file('b.png'), file('c.png')]),
        folderEntry('1', [file('d.png')]),
        file('README.txt'),
      ]),
    ])
    const files = await filesFromDrop(drop)
    expect(files.map((f) => f.path)).toEqual([
      'digits/0/a.png',
      'digits/0/b.png',
      'digits/0/c.png',
      'digits/1/d.png',
      'digits/README.txt',
    ])
    const plan = planUpload(files)
    expect(plan).toMatchObject({
      ok: true,
      description: { name: 'digits', files: 4, bytes: 16 },
      leftOut: [{ path: 'README.txt' }],
    })
  })

  it('takes several dropped folders as the classes', async () => {
    const files = await filesFromDrop(
      dataTransfer([folderEntry('cats', [file('1.png')]), folderEntry('dogs', [file('2.png')])]),
    )
    const plan = planUpload(files)
    expect(plan.ok && plan.description.name).toBe(DROPPED_NAME)
    expect(plan.ok && plan.files.map((f) => f.rel)).toEqual(['cats/1.png', 'dogs/2.png'])
  })

  it('reads a folder chosen with webkitdirectory, and knows it again by its fingerprint', () => {
    const chosen = [file('a.png'), file('b.png')].map((f, i) =>
      Object.defineProperty(f, 'webkitRelativePath', { value: `set/${['x', 'y'][i]}/${f.name}` }),
    )
    const files = filesFromInput(chosen)
    expect(files.map((f) => f.path)).toEqual(['set/x/a.png', 'set/y/b.png'])
    const first = planUpload(files)
    const again = planUpload([...files].reverse())
    expect(first.ok && again.ok && first.description.fingerprint).toBe(
      again.ok && again.description.fingerprint,
    )
    const changed = planUpload([files[0]!, { path: 'set/y/b.png', file: file('b.png', 4, 2) }])
    expect(changed.ok && changed.description.fingerprint).not.toBe(
      first.ok && first.description.fingerprint,
    )
  })

  it('leaves out files over the size limit, and refuses what has nothing to import', () => {
    const huge = { path: 'd/a/big.png', file: file('big.png') }
    Object.defineProperty(huge.file, 'size', { value: 40 * 1024 * 1024 })
    const plan = planUpload([huge, { path: 'd/b/ok.png', file: file('ok.png') }])
    expect(plan.ok && plan.leftOut).toEqual([
      { path: 'a/big.png', reason: '40 MB, over the 32 MB an image may be' },
    ])
    expect(planUpload([])).toEqual({
      ok: false,
      message: 'The folder is empty: there are no files in it to import.',
    })
    expect(planUpload([{ path: 'd/notes.txt', file: file('notes.txt') }])).toMatchObject({
      ok: false,
      message: expect.stringMatching(/has no images/),
    })
  })
})
