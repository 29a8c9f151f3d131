import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import * as tf from '@tensorflow/tfjs'

import { NATIVE_TFJS_BACKEND } from '../backend/nativeLoader'
import { encodeSavedModel } from './tfProto'
import {
  buildInferenceGraphs,
  buildTrainGraph,
  type AdamConstants,
  type InferenceGraph,
  type TrainGraph,
} from './trainGraph'

/** The SavedModel entry points of tfjs-node's backend (NodeJSKernelBackend) that the step uses. */
interface SavedModelBackend {
  loadSavedModelMetaGraph(path: string, tags: string): number
  runSavedModel(
    id: number,
    inputs: tf.Tensor[],
    inputInfos: { name: string; tfDtype: string }[],
    outputNames: string[],
  ): tf.Tensor[]
  deleteSavedModel(id: number): void
}

/** Tag of the one MetaGraphDef the step's SavedModel holds. */
const GRAPH_TAG = 'train'

function savedModelBackend(): SavedModelBackend {
  if (tf.getBackend() !== NATIVE_TFJS_BACKEND) {
    throw new Error(`the graph step needs the native backend (active: ${tf.getBackend()})`)
  }
  const backend = tf.backend() as unknown as Partial<SavedModelBackend>
  if (
    typeof backend.loadSavedModelMetaGraph !== 'function' ||
    typeof backend.runSavedModel !== 'function' ||
    typeof backend.deleteSavedModel !== 'function'
  ) {
    throw new Error('this tfjs-node backend cannot run SavedModel graphs')
  }
  return backend as SavedModelBackend
}

/**
 * Loads a GraphDef into a TensorFlow session through tfjs-node's SavedModel loader: the graph is
 * wrapped in a variable-free SavedModel written to a temporary folder, loaded, and the folder
 * removed. Returns the session id.
 */
function loadGraph(backend: SavedModelBackend, graphDef: Uint8Array): number {
  const dir = mkdtempSync(join(tmpdir(), 'inklab-graph-'))
  try {
    writeFileSync(join(dir, 'saved_model.pb'), encodeSavedModel(graphDef, [GRAPH_TAG]))
    return backend.loadSavedModelMetaGraph(dir, GRAPH_TAG)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Loss and correct count of one batch. */
export interface GraphStepStats {
  loss: number
  correct: number
}

/**
 * One Adam training step of a model as a single TensorFlow graph run in a session (Grappler fuses
 * and prunes it; nothing crosses to JavaScript but the batch, the step scalars and the stats). The
 * model's variables are updated in place after each step, so the rest of the trainer (validation,
 * best weights, checkpoints) sees the model as the eager step leaves it. Native backend only.
 */
export class GraphTrainStep {
  private readonly backend: SavedModelBackend
  private readonly graph: TrainGraph
  private readonly sessionId: number
  private readonly inputInfos: { name: string; tfDtype: string }[]
  private readonly adam: AdamConstants
  private m: tf.Tensor[]
  private v: tf.Tensor[]
  private iterations = 0
  private disposed = false

  constructor(model: tf.LayersModel, adam: AdamConstants) {
    this.backend = savedModelBackend()
    this.adam = adam
    this.graph = buildTrainGraph(model, adam)
    this.sessionId = loadGraph(this.backend, this.graph.graphDef)
    this.inputInfos = this.graph.feeds.map((name) => ({ name: `${name}:0`, tfDtype: '' }))
    this.m = this.graph.trainable.map((w) => tf.zerosLike(w))
    this.v = this.graph.trainable.map((w) => tf.zerosLike(w))
  }

  /** Runs one step on a batch with the given learning rate; `seed` drives the dropout masks. */
  run(xs: tf.Tensor4D, ys: tf.Tensor1D, learningRate: number, seed: number): GraphStepStats {
    if (this.disposed) throw new Error('the graph step has been disposed')
    const t = this.iterations + 1
    const scalars = [
      tf.scalar(learningRate),
      tf.scalar(1 / (1 - this.adam.beta1 ** t)),
      tf.scalar(1 / (1 - this.adam.beta2 ** t)),
    ]
    const seedTensor = this.graph.takesSeed ? [tf.tensor1d([seed | 0, t | 0], 'int32')] : []
    const labels = ys.dtype === 'int32' ? ys : tf.cast(ys, 'int32')
    const inputs = [
      xs,
      labels,
      ...scalars,
      ...seedTensor,
      ...this.graph.trainable,
      ...this.m,
      ...this.v,
      ...this.graph.movingStats,
    ]
    let outputs: tf.Tensor[]
    try {
      outputs = this.backend.runSavedModel(
        this.sessionId,
        inputs,
        this.inputInfos,
        this.graph.fetches.map((name) => `${name}:0`),
      )
    } finally {
      tf.dispose([...scalars, ...seedTensor])
      if (labels !== ys) labels.dispose()
    }
    const n = this.graph.trainable.length
    const stats = outputs[outputs.length - 1]
    try {
      const [loss, correct] = stats.dataSync()
      this.graph.trainable.forEach((w, i) => w.assign(outputs[i]))
      tf.dispose(outputs.slice(0, n))
      tf.dispose([...this.m, ...this.v])
      this.m = outputs.slice(n, 2 * n)
      this.v = outputs.slice(2 * n, 3 * n)
      const moving = outputs.slice(3 * n, outputs.length - 1)
      this.graph.movingStats.forEach((w, i) => w.assign(moving[i]))
      tf.dispose(moving)
      this.iterations = t
      return { loss, correct }
    } finally {
      stats.dispose()
    }
  }

  /** Frees the session and the Adam moments (the model's variables stay). */
  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    tf.dispose([...this.m, ...this.v])
    this.backend.deleteSavedModel(this.sessionId)
  }
}

/**
 * A model's inference as one TensorFlow graph in a session: one call from JavaScript per batch
 * instead of one per op, which is what a batch-1 prediction (the drawing pad) is made of. The
 * model's current variables are fed at each call, so later weight changes are seen. Native only.
 */
export class GraphPredictor {
  private readonly backend: SavedModelBackend
  /** One session per network: the model's, or each of an ensemble's. */
  private readonly networks: {
    graph: InferenceGraph
    sessionId: number
    inputInfos: { name: string; tfDtype: string }[]
  }[] = []
  private disposed = false

  constructor(model: tf.LayersModel) {
    this.backend = savedModelBackend()
    try {
      for (const graph of buildInferenceGraphs(model)) {
        this.networks.push({
          graph,
          sessionId: loadGraph(this.backend, graph.graphDef),
          inputInfos: graph.feeds.map((name) => ({ name: `${name}:0`, tfDtype: '' })),
        })
      }
    } catch (error) {
      this.dispose()
      throw error
    }
  }

  /**
   * Class probabilities of a batch ([n, 28, 28, 1] in [0, 1]), the mean of the networks' for an
   * ensemble; the caller disposes them.
   */
  predict(xs: tf.Tensor): tf.Tensor2D {
    if (this.disposed) throw new Error('the graph predictor has been disposed')
    const each = this.networks.map(({ graph, sessionId, inputInfos }) => {
      const [probabilities] = this.backend.runSavedModel(
        sessionId,
        [xs, ...graph.variables],
        inputInfos,
        [`${graph.fetch}:0`],
      )
      return probabilities as tf.Tensor2D
    })
    if (each.length === 1) return each[0]
    try {
      return tf.tidy(() => tf.div(tf.addN(each), each.length))
    } finally {
      tf.dispose(each)
    }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const { sessionId } of this.networks) this.backend.deleteSavedModel(sessionId)
  }
}
