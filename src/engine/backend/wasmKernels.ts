import {
  backend_util,
  Conv2DBackpropFilter,
  getKernel,
  registerKernel,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'

const WASM = 'wasm'

/**
 * Upper bound on the im2col buffer of one chunk, in float32 elements (32 MiB). Larger batches are
 * processed in chunks of whole samples so a wide 'same' convolution cannot exhaust the wasm heap.
 */
const MAX_COLUMN_ELEMENTS = 1 << 23

/** Runs an already registered wasm kernel directly, bypassing the engine (no tape, no tracking). */
function runWasmKernel(
  name: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const config = getKernel(name, WASM)
  if (config === undefined) throw new Error(`wasm kernel '${name}' is not registered`)
  const out = config.kernelFunc({ inputs, backend, attrs })
  if (Array.isArray(out)) throw new Error(`wasm kernel '${name}' returned several tensors`)
  return out
}

/** The parts of the forward convolution geometry that the filter gradient needs. */
interface Geometry {
  batch: number
  inHeight: number
  inWidth: number
  inChannels: number
  outHeight: number
  outWidth: number
  outChannels: number
  filterHeight: number
  filterWidth: number
  strideHeight: number
  strideWidth: number
  padTop: number
  padLeft: number
}

/**
 * Writes the transposed im2col matrix of samples [n0, n0 + count) of `x` (NHWC) into `cols`, laid
 * out [filterHeight * filterWidth * inChannels, count * outHeight * outWidth]: row (fh, fw, c)
 * holds, for every output position, the input pixel that filter tap meets (0 in the padding).
 * Reads run along contiguous channel vectors; each one is scattered to `inChannels` rows.
 */
function fillColumns(
  x: Float32Array,
  cols: Float32Array,
  g: Geometry,
  n0: number,
  count: number,
): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g
  const rowLength = count * OH * OW
  const step = g.strideWidth * C
  cols.fill(0)
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < g.filterWidth; fw++) {
      // Output columns whose tap (fh, fw) lands inside the image; the rest stay 0 (padding).
      const owBegin = Math.max(0, Math.ceil((g.padLeft - fw) / g.strideWidth))
      const owEnd = Math.min(OW, Math.ceil((W + g.padLeft - fw) / g.strideWidth))
      const rowBase = (fh * g.filterWidth + fw) * C * rowLength
      for (let n = 0; n < count; n++) {
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * g.strideHeight + fh - g.padTop
          if (ih < 0 || ih >= H) continue
          const colBase = rowBase + (n * OH + oh) * OW
          let xi = (((n0 + n) * H + ih) * W + owBegin * g.strideWidth + fw - g.padLeft) * C
          for (let ow = owBegin; ow < owEnd; ow++, xi += step) {
            let o = colBase + ow
            for (let c = 0; c < C; c++, o += rowLength) cols[o] = x[xi + c]
          }
        }
      }
    }
  }
}

/** colsT x dy for samples [n0, n0 + count): a [1, K, OC] partial filter gradient. */
function chunkProduct(
  wasm: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  g: Geometry,
  n0: number,
  count: number,
): TensorInfo {
  const K = g.filterHeight * g.filterWidth * g.inChannels
  const OC = g.outChannels
  const rows = count * g.outHeight * g.outWidth
  const cols = wasm.makeOutput([1, K, rows], 'float32')
  const dyPart = wasm.makeOutput([1, rows, OC], 'float32')
  try {
    // Views are taken after both allocations: a heap growth detaches earlier views.
    const xView = wasm.typedArrayFromHeap(x) as Float32Array
    fillColumns(xView, wasm.typedArrayFromHeap(cols) as Float32Array, g, n0, count)
    const dyView = wasm.typedArrayFromHeap(dy) as Float32Array
    const first = n0 * g.outHeight * g.outWidth * OC
    ;(wasm.typedArrayFromHeap(dyPart) as Float32Array).set(
      dyView.subarray(first, first + rows * OC),
    )
    const attrs = { transposeA: false, transposeB: false }
    return runWasmKernel('BatchMatMul', wasm, { a: cols, b: dyPart }, attrs)
  } finally {
    wasm.disposeData(cols.dataId)
    wasm.disposeData(dyPart.dataId)
  }
}

/**
 * `Conv2DBackpropFilter` for the wasm backend (missing upstream in tfjs 4.22).
 *
 * dW[K, OC] = colsT[K, M] x dy[M, OC] with K = fh*fw*inC and M = batch*outH*outW. The im2col is
 * written in JS straight into the wasm heap; the product runs in the wasm `BatchMatMul` kernel,
 * whose untransposed batch-1 case is XNNPACK's SIMD GEMM. dy is copied into a tensor of our own
 * because XNNPACK caches its packed right-hand operand by tensor id until that tensor is disposed.
 */
export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttrs
  const dilations = (attrs as { dilations?: number | number[] }).dilations
  if (dilations !== undefined && [dilations].flat().some((d) => d !== 1)) {
    throw new Error(`Conv2DBackpropFilter (wasm): dilations ${dilations} unsupported, only 1`)
  }
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm): dataFormat ${dataFormat} unsupported, only NHWC`)
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`Conv2DBackpropFilter (wasm): float32 only, got ${x.dtype} and ${dy.dtype}`)
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  )
  const g: Geometry = {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  }
  const expectedDy = [g.batch, g.outHeight, g.outWidth, g.outChannels]
  if (dy.shape.join() !== expectedDy.join()) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy shape ${dy.shape}, expected ${expectedDy}`)
  }
  const K = g.filterHeight * g.filterWidth * g.inChannels
  const OC = g.outChannels
  const pixels = g.outHeight * g.outWidth
  const perChunk = Math.max(1, Math.floor(MAX_COLUMN_ELEMENTS / Math.max(1, K * pixels)))

  let acc: TensorInfo | undefined
  try {
    for (let n0 = 0; n0 < g.batch && pixels > 0; n0 += perChunk) {
      const part = chunkProduct(wasm, x, dy, g, n0, Math.min(perChunk, g.batch - n0))
      if (acc === undefined) {
        acc = part
        continue
      }
      const sum = wasm.typedArrayFromHeap(acc) as Float32Array
      const add = wasm.typedArrayFromHeap(part) as Float32Array
      for (let i = 0; i < sum.length; i++) sum[i] += add[i]
      wasm.disposeData(part.dataId)
    }
  } catch (error) {
    if (acc !== undefined) wasm.disposeData(acc.dataId)
    throw error
  }
  if (acc === undefined) {
    // Empty batch or empty output: the gradient is zero.
    return wasm.makeOutput(filterShape, 'float32', undefined, new Float32Array(K * OC))
  }
  const dw = runWasmKernel('Reshape', wasm, { x: acc }, { shape: filterShape })
  wasm.disposeData(acc.dataId)
  return dw
}

/** Kernels InkLab adds to the wasm backend so CNNs can train on it. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  { kernelName: Conv2DBackpropFilter, backendName: WASM, kernelFunc: conv2DBackpropFilterWasm },
]

/**
 * Registers InkLab's extra wasm training kernels (today `Conv2DBackpropFilter`). Idempotent, and a
 * kernel already present (registered earlier or shipped by a newer tfjs) is left alone. Returns the
 * names registered by this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = []
  for (const config of WASM_TRAINING_KERNELS) {
    if (getKernel(config.kernelName, config.backendName) !== undefined) continue
    registerKernel(config)
    added.push(config.kernelName)
  }
  return added
}
