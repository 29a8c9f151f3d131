import { PRESETS, type BuiltinPresetName } from '@shared/presets'
import { LayerSpecSchema, type LayerSpec } from '@shared/schemas'

/** A layer type of a custom architecture. */
export type LayerType = LayerSpec['type']

/** The layer types the editor offers, in menu order. */
export const LAYER_TYPES: readonly { value: LayerType; label: string }[] = [
  { value: 'conv2d', label: 'conv2d' },
  { value: 'maxPool2d', label: 'maxPool2d' },
  { value: 'batchNorm', label: 'batchNorm' },
  { value: 'dropout', label: 'dropout' },
  { value: 'flatten', label: 'flatten' },
  { value: 'globalAveragePool', label: 'globalAveragePool' },
  { value: 'dense', label: 'dense' },
]

/** Common sizes for the settings the schema has no default for. */
const STARTING_SIZES: Partial<Record<LayerType, Record<string, number>>> = {
  conv2d: { filters: 32, kernelSize: 3 },
  dropout: { rate: 0.25 },
  dense: { units: 128 },
}

/** A new layer of `type`: the schema's defaults, and common sizes where the schema has none. */
export function defaultLayer(type: LayerType): LayerSpec {
  return LayerSpecSchema.parse({ type, ...STARTING_SIZES[type] })
}

/** `layer` turned into a `type` layer: the new type's defaults, keeping the activation if both have one. */
export function withLayerType(layer: LayerSpec, type: LayerType): LayerSpec {
  const next = defaultLayer(type)
  if ('activation' in next && 'activation' in layer) next.activation = layer.activation
  return next
}

/** A deep copy of a built-in preset's layers, to edit as a custom architecture. */
export function presetLayers(name: BuiltinPresetName): LayerSpec[] {
  return structuredClone(PRESETS[name].architecture.layers)
}

/** Plain copies of `layers` (no Vue proxies), as a request or a JSON file carries them. */
export function copyLayers(layers: readonly LayerSpec[]): LayerSpec[] {
  return layers.map((layer) => ({ ...layer }))
}

/** The architecture as `inklab train --architecture FILE.json` reads it, pretty-printed. */
export function architectureToJson(layers: readonly LayerSpec[]): string {
  return JSON.stringify({ layers: copyLayers(layers) }, null, 2)
}

export { parseArchitectureJson, type ArchitectureParse } from '@shared/architecture'

/** An output shape as the layer list shows it: "13x13x32" or "128". */
export function formatShape(shape: readonly number[]): string {
  return shape.join('x')
}
