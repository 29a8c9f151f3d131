import { describe, expect, it } from 'vitest'

import { PRESETS } from '@shared/presets'
import { issueText, MAX_PARAMS, validateArchitecture } from '@shared/architecture'

describe('validateArchitecture', () => {
  it('accepts every preset', () => {
    for (const [name, preset] of Object.entries(PRESETS)) {
      const report = validateArchitecture(preset.architecture, 10)
      expect(report.errors, name).toEqual([])
      expect(report.ok).toBe(true)
    }
  })

  it('infers the shapes and parameter count of the Keras mnist_convnet (34,826 params)', () => {
    const report = validateArchitecture(PRESETS.classic.architecture, 10)
    expect(report.layers.map((l) => l.outputShape)).toEqual([
      [26, 26, 32],
      [13, 13, 32],
      [11, 11, 64],
      [5, 5, 64],
      [1600],
      [1600],
      [10],
    ])
    expect(report.layers.map((l) => l.params)).toEqual([320, 0, 18496, 0, 0, 0, 16010])
    expect(report.totalParams).toBe(34826)
    expect(report.layers[6].name).toBe('output (dense 10 softmax)')
  })

  it('counts batch norm (4 per channel), same padding and strides', () => {
    const report = validateArchitecture(
      {
        layers: [
          { type: 'conv2d', filters: 8, kernelSize: 5, strides: 2, padding: 'same' },
          { type: 'batchNorm' },
          { type: 'globalAveragePool' },
          { type: 'dense', units: 4 },
        ],
      },
      3,
    )
    expect(report.layers.map((l) => l.outputShape)).toEqual([
      [14, 14, 8],
      [14, 14, 8],
      [8],
      [4],
      [3],
    ])
    expect(report.totalParams).toBe(5 * 5 * 8 + 8 + 32 + (8 * 4 + 4) + (4 * 3 + 3))
  })

  it('names the layer whose input is too small for its kernel', () => {
    const report = validateArchitecture(
      {
        layers: [
          { type: 'conv2d', filters: 8, kernelSize: 3 },
          { type: 'maxPool2d', poolSize: 4 },
          { type: 'maxPool2d', poolSize: 3 },
          { type: 'conv2d', filters: 8, kernelSize: 5 },
          { type: 'flatten' },
        ],
      },
      10,
    )
    // 28 -> 26 -> 6 -> 2: the 5x5 kernel does not fit.
    expect(report.ok).toBe(false)
    expect(report.errors).toEqual([
      {
        layer: 3,
        where: 'layer 4 (conv2d 5x5)',
        message: 'input is 2x2, too small for a 5x5 kernel with valid padding',
      },
    ])
  })

  it('refuses dense after conv without flatten or global pooling', () => {
    const report = validateArchitecture(
      {
        layers: [
          { type: 'conv2d', filters: 8, kernelSize: 3 },
          { type: 'dense', units: 32 },
        ],
      },
      10,
    )
    expect(issueText(report.errors[0]!)).toMatch(
      /^layer 2 \(dense 32\): input is 26x26x8 .*add a flatten/,
    )
    expect(report.errors[0]?.layer).toBe(1)
  })

  it('refuses an architecture that ends image-shaped', () => {
    const report = validateArchitecture(
      { layers: [{ type: 'conv2d', filters: 8, kernelSize: 3 }] },
      10,
    )
    // The output layer comes after the hidden ones.
    expect(report.errors).toEqual([
      {
        layer: 1,
        where: 'output (dense 10 softmax)',
        message:
          'input is 26x26x8 (image-shaped); end the architecture with flatten or globalAveragePool',
      },
    ])
  })

  it('refuses conv after flatten', () => {
    const report = validateArchitecture(
      { layers: [{ type: 'flatten' }, { type: 'conv2d', filters: 8, kernelSize: 3 }] },
      10,
    )
    expect(issueText(report.errors[0]!)).toMatch(
      /^layer 2 \(conv2d 3x3\): input is a vector of 784/,
    )
  })

  it('refuses flatten of a vector, which tfjs cannot build', () => {
    const layers = [
      { type: 'flatten' as const },
      { type: 'dense' as const, units: 9 },
      { type: 'flatten' as const },
    ]
    const report = validateArchitecture({ layers }, 10)
    expect(report.errors.map(issueText)).toEqual([
      'layer 3 (flatten): input is already a vector of 9; remove this flatten',
    ])
    expect(report.errors[0]?.layer).toBe(2)
  })

  it('refuses too many parameters', () => {
    const report = validateArchitecture(
      {
        layers: [
          { type: 'conv2d', filters: 1024, kernelSize: 3, padding: 'same' },
          { type: 'flatten' },
          { type: 'dense', units: 8192 },
        ],
      },
      10,
    )
    expect(report.ok).toBe(false)
    expect(report.totalParams).toBeGreaterThan(MAX_PARAMS)
    expect(report.errors.at(-1)).toMatchObject({
      layer: null,
      message: expect.stringMatching(/parameters, more than the limit of 50,000,000/),
    })
  })

  it('reports schema problems and too few classes', () => {
    const bad = validateArchitecture({ layers: [{ type: 'dropout', rate: 2 }] }, 10)
    expect(bad.ok).toBe(false)
    expect(bad.errors[0]).toMatchObject({ layer: 0, field: 'rate' })
    expect(issueText(bad.errors[0]!)).toMatch(/^layer 1 \(rate\): /)
    expect(validateArchitecture({ layers: [{ type: 'flatten' }] }, 1).errors[0]).toMatchObject({
      layer: null,
      message: expect.stringMatching(/at least 2 classes/),
    })
  })
})
