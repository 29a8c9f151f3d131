import { EXPORT_INPUT } from '@shared/schemas/export'
import type { ModelMetadata } from '@shared/schemas/model'
import type * as tf from '@tensorflow/tfjs'

import {
  LayerError,
  mapWeights,
  readEnsemble,
  type LayerActivation,
  type LayerOf,
} from '../../model/layers'

/** A model cannot be exported: an unsupported layer or option, named in the message. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ExportError'
  }
}

/** Activations InkLab's layers use (the schema's hidden-layer ones and the output's softmax). */
export type ExportActivation = LayerActivation

/** A weight array in the layout tfjs and Keras share (conv kernels [kh, kw, in, out]). */
export interface WeightArray {
  shape: number[]
  values: Float32Array
}

/** A layer as the exporters see it: its kind, options and weights, nothing tfjs-specific. */
export type ExportLayer = LayerOf<WeightArray>

export type ExportLayerKind = ExportLayer['kind']

/** A sequential model, or an ensemble of them, ready to be written in another format. */
export interface ExportGraph {
  /** Per-sample input shape, [28, 28, 1] for InkLab models. */
  inputShape: number[]
  /** Every layer: the network's, or those of each network of an ensemble, one after another. */
  layers: ExportLayer[]
  /**
   * An ensemble: each network's layers (named `m1_...`, `m2_...`), all fed by the input, whose
   * class probabilities the output averages. Absent for one network.
   */
  members?: ExportLayer[][]
  /** InkLab's metadata: labels, preprocessing, provenance. */
  metadata: ModelMetadata
}

/**
 * Describes a loaded InkLab model for the exporters: its layers as `readLayers` reads them (the
 * layers InkLab's presets and custom editor build), with their weights copied out. Anything else is
 * refused with an ExportError naming the layer.
 */
export function exportGraphOf(model: tf.LayersModel, metadata: ModelMetadata): ExportGraph {
  let read: ReturnType<typeof readEnsemble>
  try {
    read = readEnsemble(model)
  } catch (error) {
    if (!(error instanceof LayerError)) throw error
    throw new ExportError(
      error.layer
        ? `cannot export ${error.layer}: ${error.problem}`
        : `cannot export: ${error.problem}`,
    )
  }
  const members = read.members.map((layers) =>
    layers.map((layer) =>
      mapWeights(layer, (variable): WeightArray => ({
        shape: [...variable.shape],
        values: Float32Array.from(variable.dataSync()),
      })),
    ),
  )
  for (const layers of members) {
    const last = layers[layers.length - 1]
    if (last.kind === 'dense' && last.units !== metadata.labels.length) {
      throw new ExportError(
        `cannot export: the model has ${last.units} outputs but its metadata lists ${metadata.labels.length} labels`,
      )
    }
  }
  return {
    inputShape: read.inputShape,
    layers: members.flat(),
    ...(members.length > 1 ? { members } : {}),
    metadata,
  }
}

/**
 * What every export carries besides the network, so a file alone says how to use it: the labels
 * in output order, the input convention and InkLab's preprocessing and provenance.
 */
export function exportMetadata(graph: ExportGraph): Record<string, unknown> {
  const { metadata } = graph
  return {
    format: 'inklab-export',
    formatVersion: 1,
    name: metadata.name,
    labels: metadata.labels,
    input: { ...EXPORT_INPUT, shape: graph.inputShape },
    preprocessing: metadata.preprocessing,
    dataset: metadata.dataset,
    preset: metadata.preset,
    metrics: metadata.metrics,
    createdAt: metadata.createdAt,
    inklabVersion: metadata.inklabVersion,
  }
}
