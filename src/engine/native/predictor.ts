import * as tf from '@tensorflow/tfjs'

import { NATIVE_TFJS_BACKEND } from '../backend/nativeLoader'
import { GraphPredictor } from './graphStep'

/** Each model's graph predictor, or null when its graph cannot be built (then tfjs runs it). */
const predictors = new WeakMap<tf.LayersModel, GraphPredictor | null>()

/** Frees a predictor's TensorFlow session once its model is garbage-collected. */
const sessions = new FinalizationRegistry<GraphPredictor>((predictor) => predictor.dispose())

function predictorFor(model: tf.LayersModel): GraphPredictor | null {
  let predictor = predictors.get(model)
  if (predictor === undefined) {
    try {
      predictor = new GraphPredictor(model)
      sessions.register(model, predictor)
    } catch {
      // A layer the graph does not express: model.predict does the same work op by op.
      predictor = null
    }
    predictors.set(model, predictor)
  }
  return predictor
}

/**
 * The class probabilities of `model` for a batch `x` (owned by the caller). On the native backend
 * the whole forward pass runs as one TensorFlow graph (a batch-1 prediction is 2-3x faster than
 * `model.predict`, which dispatches each op from JavaScript); elsewhere, or for a model the graph
 * cannot express, it is `model.predict`.
 */
export function predictBatch(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === NATIVE_TFJS_BACKEND) {
    const predictor = predictorFor(model)
    if (predictor) return predictor.predict(x)
  }
  return model.predict(x) as tf.Tensor
}
