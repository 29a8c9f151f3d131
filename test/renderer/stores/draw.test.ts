import { describe, expect, it } from 'vitest'

import type { Classification } from '@shared/contract'

import { useDrawStore } from '@renderer/stores/draw'
import { settle, setupFake } from '../helpers/setup'

function classification(label: string): Classification {
  return {
    prediction: { label, index: Number(label), confidence: 0.9, top: [{ label, p: 0.9 }] },
    input: '',
    empty: false,
    modelId: 'model-a',
  }
}

describe('useDrawStore', () => {
  it('keeps only the newest drawing while a request is in flight', async () => {
    const resolvers: ((c: Classification) => void)[] = []
    const { fake } = setupFake({
      'draw.classify': () => new Promise<Classification>((resolve) => resolvers.push(resolve)),
    })
    const draw = useDrawStore()
    const image = (n: number) => ({ width: 1, height: 1, data: btoa(String.fromCharCode(n)) })
    draw.classify(image(1))
    draw.classify(image(2))
    draw.classify(image(3))
    expect(fake.callsTo('draw.classify')).toHaveLength(1)
    resolvers[0]!(classification('1'))
    await settle()
    expect(fake.callsTo('draw.classify').map((c) => c.data)).toEqual([btoa('\x01'), btoa('\x03')])
    resolvers[1]!(classification('3'))
    await settle()
    expect(draw.classification?.prediction?.label).toBe('3')
  })

  it('drops answers that arrive after a clear', async () => {
    let resolve!: (c: Classification) => void
    setupFake({ 'draw.classify': () => new Promise<Classification>((r) => (resolve = r)) })
    const draw = useDrawStore()
    draw.classify({ width: 1, height: 1, data: '' })
    draw.clear()
    resolve(classification('4'))
    await settle()
    expect(draw.classification).toBeNull()
  })
})

describe('useDrawStore: pad and file requests', () => {
  it('a drawing supersedes a pending file request', async () => {
    let resolveFile!: (c: Classification) => void
    setupFake({
      'draw.classifyFile': () => new Promise<Classification>((r) => (resolveFile = r)),
      'draw.classify': () => classification('3'),
    })
    const draw = useDrawStore()
    const file = draw.classifyFile('/tmp/seven.png')
    draw.classify({ width: 1, height: 1, data: '' })
    await settle()
    expect(draw.classification?.prediction?.label).toBe('3')
    resolveFile(classification('7'))
    await file
    await settle()
    expect(draw.classification?.prediction?.label).toBe('3')
    expect(draw.source).toBe('pad')
    expect(draw.classifying).toBe(false)
  })

  it('a file request supersedes a pending drawing', async () => {
    let resolvePad!: (c: Classification) => void
    setupFake({
      'draw.classify': () => new Promise<Classification>((r) => (resolvePad = r)),
      'draw.classifyFile': () => classification('7'),
    })
    const draw = useDrawStore()
    draw.classify({ width: 1, height: 1, data: '' })
    await draw.classifyFile('/tmp/seven.png')
    resolvePad(classification('3'))
    await settle()
    expect(draw.classification?.prediction?.label).toBe('7')
    expect(draw.source).toBe('file')
    expect(draw.filePath).toBe('/tmp/seven.png')
  })

  it('clearPad forgets a drawing result but keeps a file result', async () => {
    setupFake({
      'draw.classify': () => classification('3'),
      'draw.classifyFile': () => classification('7'),
    })
    const draw = useDrawStore()
    await draw.classifyFile('/tmp/seven.png')
    draw.clearPad()
    expect(draw.classification?.prediction?.label).toBe('7')

    draw.classify({ width: 1, height: 1, data: '' })
    await settle()
    expect(draw.source).toBe('pad')
    draw.clearPad()
    expect(draw.classification).toBeNull()
  })
})
