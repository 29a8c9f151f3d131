import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { sourcePath, TEST_FOLDER_PREFIX } from '@engine/data/sources'

describe('sourcePath', () => {
  const folder = { kind: 'folder' as const, path: '/data/digits' }

  it('finds a sample’s file in its folder, or in the separate test folder', () => {
    expect(sourcePath(folder, 'a/1.png')).toBe(join('/data/digits', 'a', '1.png'))
    const withTest = { ...folder, test: { folder: '/data/digits-test' } }
    expect(sourcePath(withTest, `${TEST_FOLDER_PREFIX}a/2.png`)).toBe(
      join('/data/digits-test', 'a', '2.png'),
    )
  })

  it('has no path for names that leave the folder, other kinds, or uploads (removed once imported)', () => {
    expect(sourcePath(folder, '../etc/passwd')).toBeNull()
    expect(sourcePath({ kind: 'idx', path: '/data/idx' }, 'a/1.png')).toBeNull()
    const upload = { ...folder, upload: { name: 'digits', fingerprint: 'f' } }
    expect(sourcePath(upload, 'a/1.png')).toBeNull()
  })
})
