import { describe, expect, it } from 'vitest'

import type { Dataset } from '@engine/data/types'
import { keysOf, trainingSplits } from '@engine/train/splits'

const SETTINGS = { limit: 0, validationSplit: 0.25, seed: 7 }

/** An image folder's copy: 8 images of two classes, each named by its file. */
function folder(files: boolean): Dataset {
  const names = Array.from({ length: 8 }, (_, i) => `${i % 2 ? 'b' : 'a'}/${i}.png`)
  return {
    name: 'f',
    labels: ['a', 'b'],
    train: {
      images: new Uint8Array(8 * 784),
      labels: Uint8Array.from(names, (_, i) => i % 2),
      count: 8,
      ...(files ? { files: names } : {}),
    },
    source: { kind: 'folder', path: '/f' },
    skipped: [],
    transposed: false,
  }
}

describe('a run’s held-out samples, by key', () => {
  it('holds out exactly the files a run recorded', () => {
    const dataset = folder(true)
    const { validation, train } = trainingSplits(dataset, SETTINGS, new Set(['file:b/3.png']))
    expect(keysOf(dataset, validation!)).toEqual(['file:b/3.png'])
    expect(train.count).toBe(7)
  })

  it('gives the seeded split to a run that recorded a folder’s images by position (they may have moved)', () => {
    const dataset = folder(true)
    const seeded = trainingSplits(dataset, SETTINGS)
    const legacy = trainingSplits(dataset, SETTINGS, new Set(['train:3']))
    expect(keysOf(dataset, legacy.validation!)).toEqual(keysOf(dataset, seeded.validation!))
    expect(seeded.validation!.count).toBe(2)
    // Without files, positions are the keys.
    const positions = folder(false)
    const kept = trainingSplits(positions, SETTINGS, new Set(['train:3']))
    expect(keysOf(positions, kept.validation!)).toEqual(['train:3'])
  })
})
