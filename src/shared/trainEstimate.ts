import { validateArchitecture } from './architecture'
import { PRESETS } from './presets'
import type { BackendName } from './schemas/backend'
import type { Architecture } from './schemas/model'
import type { RunSummary } from './schemas/run'

/**
 * Seconds one training image costs on a backend: a fixed part (batching, augmentation, the
 * weight update) and a part per multiply-accumulate of the network's forward pass.
 *
 * WebAssembly is fitted to the README's full-MNIST figures on a 2-core machine (one thread):
 * `fast` 1,560, `classic` 589 and `accurate` about 110 samples/s (the fit gives 1,560, 589 and
 * 120). The native backend is taken as three times faster and the pure-JS one from `inklab bench`
 * (1.45 samples/s for classic): rough, which is why a run finished on this machine, when there is
 * one, rescales the figures (see `estimateTraining`).
 */
export const TRAIN_COST: Readonly<Record<BackendName, { perImage: number; perMac: number }>> = {
  wasm: { perImage: 431e-6, perMac: 0.519e-9 },
  native: { perImage: 431e-6 / 3, perMac: 0.519e-9 / 3 },
  cpu: { perImage: 0, perMac: 2.8e-7 },
}

/**
 * Multiply-accumulates of one forward pass of an architecture with `classes` outputs (convolutions
 * and dense layers; the rest is small beside them); 0 when the architecture is invalid.
 */
export function forwardMacs(architecture: Architecture, classes: number): number {
  const report = validateArchitecture(architecture, classes)
  if (!report.ok) return 0
  let macs = 0
  report.layers.forEach((layer, i) => {
    const spec = architecture.layers[i]
    const size = layer.outputShape.slice(0, 2).reduce((a, b) => a * b, 1)
    if (!spec)
      macs += layer.params - classes // the softmax output layer
    else if (spec.type === 'conv2d') macs += (layer.params - spec.filters) * size
    else if (spec.type === 'dense') macs += layer.params - spec.units
  })
  return macs
}

/** Seconds per training image of a network of `macs` on `backend`, by `TRAIN_COST`. */
export function secondsPerImage(macs: number, backend: BackendName): number {
  const cost = TRAIN_COST[backend]
  return cost.perImage + cost.perMac * macs
}

/** A finished run on this machine, to rescale the estimate by what it really took. */
export interface MeasuredSpeed {
  /** Forward multiply-accumulates of the network it trained. */
  macs: number
  samplesPerSecond: number
}

export interface TrainingEstimateInput {
  architecture: Architecture
  classes: number
  /** Training images of the dataset (before the validation split is taken off). */
  trainImages: number
  epochs: number
  validationSplit: number
  /** Epochs without improvement before training stops; 0: it runs every epoch. */
  earlyStoppingPatience: number
  backend: BackendName
  /** The latest finished run on this backend, when there is one. */
  measured?: MeasuredSpeed | null
}

export interface TrainingEstimate {
  /** Seconds for every epoch. */
  seconds: number
  /** True when early stopping may end the run sooner. */
  upTo: boolean
  /** True when a finished run on this machine rescaled the figure. */
  calibrated: boolean
}

/**
 * How long a training takes, before it starts: every epoch of the training images (less the
 * validation split) at `secondsPerImage`, plus a forward pass over the validation images each
 * epoch. A run measured on this machine and backend rescales it by the ratio of what it took to
 * what the same formula says for its network. An estimate; the live ETA takes over once the run
 * reports its speed.
 */
export function estimateTraining(input: TrainingEstimateInput): TrainingEstimate | null {
  const macs = forwardMacs(input.architecture, input.classes)
  if (macs <= 0 || input.trainImages <= 0 || input.epochs <= 0) return null
  const validation = Math.round(input.trainImages * input.validationSplit)
  const training = input.trainImages - validation
  const perImage = secondsPerImage(macs, input.backend)
  // A forward pass is about a third of a training step's arithmetic, with no update or augmentation.
  const perValidationImage = (TRAIN_COST[input.backend].perMac * macs) / 3
  let seconds = input.epochs * (training * perImage + validation * perValidationImage)
  const measured = input.measured
  const calibrated = !!measured && measured.macs > 0 && measured.samplesPerSecond > 0
  if (calibrated) {
    const predicted = secondsPerImage(measured.macs, input.backend)
    seconds *= 1 / measured.samplesPerSecond / predicted
  }
  return {
    seconds,
    upTo: input.earlyStoppingPatience > 0 && input.earlyStoppingPatience < input.epochs,
    calibrated,
  }
}

/**
 * The speed of the latest run that finished on `backend` on this machine (not the bundled model,
 * trained elsewhere; not a custom network, whose layers a summary does not carry), or null.
 */
export function latestMeasuredSpeed(
  runs: readonly RunSummary[],
  backend: BackendName,
  classes: number,
): MeasuredSpeed | null {
  const measured = runs
    .filter(
      (r) =>
        !r.builtin &&
        r.preset !== 'custom' &&
        r.backend?.name === backend &&
        (r.metrics?.samplesPerSecond ?? 0) > 0 &&
        r.finishedAt !== undefined,
    )
    .sort((a, b) => (a.finishedAt! < b.finishedAt! ? 1 : -1))[0]
  if (!measured || measured.preset === 'custom') return null
  return {
    macs: forwardMacs(PRESETS[measured.preset].architecture, classes),
    samplesPerSecond: measured.metrics!.samplesPerSecond!,
  }
}
