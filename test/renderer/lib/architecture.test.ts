import { describe, expect, it } from 'vitest'

import { PRESETS } from '@shared/presets'

import {
  architectureToJson,
  defaultLayer,
  formatShape,
  LAYER_TYPES,
  parseArchitectureJson,
  presetLayers,
  withLayerType,
} from '@renderer/lib/architecture'

describe('architecture helpers', () => {
  it('gives every layer type a default that the schema accepts as is', () => {
    for (const { value } of LAYER_TYPES) {
      const layer = defaultLayer(value)
      expect(parseArchitectureJson(JSON.stringify({ layers: [layer] }))).toEqual({
        ok: true,
        layers: [layer],
      })
    }
  })

  it('keeps the activation when a layer changes type', () => {
    const conv = { ...defaultLayer('conv2d'), activation: 'tanh' as const }
    expect(withLayerType(conv, 'dense')).toEqual({ type: 'dense', units: 128, activation: 'tanh' })
    expect(withLayerType(conv, 'flatten')).toEqual({ type: 'flatten' })
  })

  it('copies preset layers, so editing them leaves the preset alone', () => {
    const layers = presetLayers('classic')
    expect(layers).toEqual(PRESETS.classic.architecture.layers)
    layers.pop()
    expect(layers).not.toEqual(PRESETS.classic.architecture.layers)
  })

  it('round-trips the CLI format and fills schema defaults on import', () => {
    const layers = presetLayers('accurate')
    expect(parseArchitectureJson(architectureToJson(layers))).toEqual({ ok: true, layers })
    expect(
      parseArchitectureJson('{"layers":[{"type":"conv2d","filters":4,"kernelSize":3}]}'),
    ).toEqual({
      ok: true,
      layers: [
        {
          type: 'conv2d',
          filters: 4,
          kernelSize: 3,
          strides: 1,
          padding: 'valid',
          activation: 'relu',
        },
      ],
    })
  })

  it('explains what is wrong with text it cannot import', () => {
    expect(parseArchitectureJson('not json')).toMatchObject({ ok: false })
    expect(parseArchitectureJson('not json')).toHaveProperty(
      'error',
      expect.stringMatching(/^Not valid JSON: /),
    )
    expect(parseArchitectureJson('{"layers":[]}')).toHaveProperty(
      'error',
      expect.stringMatching(/^layers: /),
    )
    expect(
      parseArchitectureJson('{"layers":[{"type":"flatten"},{"type":"dropout","rate":2}]}'),
    ).toHaveProperty('error', expect.stringMatching(/^layer 2 \(rate\): /))
    // Shapes are the live validation's business: a network that does not fit yet still imports.
    expect(parseArchitectureJson('{"layers":[{"type":"dense","units":8}]}')).toMatchObject({
      ok: true,
    })
  })

  it('formats shapes as the layer list shows them', () => {
    expect(formatShape([13, 13, 32])).toBe('13x13x32')
    expect(formatShape([128])).toBe('128')
  })
})
