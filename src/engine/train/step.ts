import * as tf from '@tensorflow/tfjs'

import { NATIVE_TFJS_BACKEND } from '../backend/nativeLoader'
import { GraphTrainStep } from '../native/graphStep'
import { createAdam, trainableVariables, trainStep, type BatchStats } from './forward'

/** How a training step runs: one TensorFlow graph per step (native only), or op by op (eager). */
export type StepKind = 'graph' | 'eager'

/** What the trainer asks for: `auto` is the graph on native when the model allows it, else eager. */
export type StepRequest = 'auto' | StepKind

/** Adam's constants (Keras defaults), shared by both kinds of step. */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const

/** One optimisation step of a model on a batch, whichever way it runs. */
export interface TrainingStep {
  readonly kind: StepKind
  /** Why the step is eager when the graph was possible in principle (for logs). */
  readonly fallbackReason?: string
  /** Trains on one batch at `learningRate`; returns the batch loss and correct count. */
  run(xs: tf.Tensor4D, ys: tf.Tensor1D, learningRate: number): BatchStats
  /** Frees the optimizer state (and the graph's session); the model stays. */
  dispose(): void
}

/** Options of `createTrainingStep`. */
export interface StepOptions {
  request?: StepRequest
  /** Draws dropout seeds, one per call; the same sequence gives the same run. */
  nextSeed: () => number
}

function eagerStep(
  model: tf.LayersModel,
  nextSeed: () => number,
  fallbackReason?: string,
): TrainingStep {
  const optimizer = createAdam(1e-3)
  const variables = trainableVariables(model)
  return {
    kind: 'eager',
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
    run(xs, ys, learningRate) {
      optimizer.setLearningRate(learningRate)
      return trainStep(model, optimizer, variables, xs, ys, nextSeed)
    },
    dispose: () => optimizer.dispose(),
  }
}

function graphStep(model: tf.LayersModel, nextSeed: () => number): TrainingStep {
  const step = new GraphTrainStep(model, ADAM)
  return {
    kind: 'graph',
    run: (xs, ys, learningRate) => step.run(xs, ys, learningRate, nextSeed()),
    dispose: () => step.dispose(),
  }
}

/**
 * The training step for `model` on the active backend. `auto` (the default) runs the whole step as
 * one TensorFlow graph on the native backend (several times faster than op-by-op execution) and
 * falls back to the eager step, saying why, when the backend is not native or the graph cannot
 * express the model. `graph` throws instead of falling back; `eager` is always op by op.
 */
export function createTrainingStep(model: tf.LayersModel, options: StepOptions): TrainingStep {
  const request = options.request ?? 'auto'
  if (request === 'eager') return eagerStep(model, options.nextSeed)
  if (tf.getBackend() !== NATIVE_TFJS_BACKEND) {
    if (request === 'graph') {
      throw new Error(
        `the graph training step needs the native backend (active: ${tf.getBackend()})`,
      )
    }
    return eagerStep(model, options.nextSeed)
  }
  try {
    return graphStep(model, options.nextSeed)
  } catch (error) {
    if (request === 'graph') throw error
    const reason = error instanceof Error ? error.message : String(error)
    return eagerStep(model, options.nextSeed, reason)
  }
}
