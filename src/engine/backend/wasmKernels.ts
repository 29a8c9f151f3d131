import {
  backend_util,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  getKernel,
  MaxPoolGrad,
  registerKernel,
  Tile,
  unregisterKernel,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  type TileAttrs,
} from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'

const WASM = 'wasm'

/**
 * Upper bound on one chunk's im2col buffer, in float32 elements (32 MiB). Larger batches are
 * processed a few whole samples at a time so that a wide 'same' convolution cannot exhaust the
 * wasm heap.
 */
const MAX_COLUMN_ELEMENTS = 1 << 23

type Shape4 = [number, number, number, number]

/** The parts of a forward convolution's geometry that its gradients need (NHWC, dilation 1). */
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

function geometryOf(info: backend_util.Conv2DInfo): Geometry {
  return {
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
}

/** Rejects what these kernels do not implement, with an error that names the kernel. */
function checkSupported(kernel: string, attrs: NamedAttrMap, tensors: TensorInfo[]): void {
  const dilations = (attrs as { dilations?: number | number[] }).dilations
  if (dilations !== undefined && [dilations].flat().some((d) => d !== 1)) {
    throw new Error(`${kernel} (wasm): dilations ${dilations} unsupported, only 1`)
  }
  const dataFormat = (attrs as { dataFormat?: string }).dataFormat
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (wasm): dataFormat ${dataFormat} unsupported, only NHWC`)
  }
  for (const t of tensors) {
    if (t.dtype !== 'float32') throw new Error(`${kernel} (wasm): float32 only, got ${t.dtype}`)
  }
}

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

function view(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array
}

/** Whole samples per chunk so that a [count * outH * outW, K] matrix stays under the cap. */
function samplesPerChunk(g: Geometry, k: number): number {
  return Math.max(1, Math.floor(MAX_COLUMN_ELEMENTS / Math.max(1, k * g.outHeight * g.outWidth)))
}

/** Output columns [begin, end) whose filter tap `fw` lands inside the image. */
function tapRange(g: Geometry, fw: number): [number, number] {
  const begin = Math.max(0, Math.ceil((g.padLeft - fw) / g.strideWidth))
  const end = Math.min(g.outWidth, Math.ceil((g.inWidth + g.padLeft - fw) / g.strideWidth))
  return [begin, Math.max(begin, end)]
}

/**
 * Writes the transposed im2col matrix of samples [n0, n0 + count) of `x` (NHWC) into `cols`, laid
 * out [filterHeight * filterWidth * inChannels, count * outHeight * outWidth]: row (fh, fw, c)
 * holds, for each output position, the input value that filter tap meets (0 in the padding). The
 * samples are first transposed to channel-major order so that every row is copied in runs.
 */
function fillColumnsTransposed(
  x: Float32Array,
  cols: Float32Array,
  g: Geometry,
  n0: number,
  count: number,
): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g
  const plane = count * H * W
  const xT = new Float32Array(plane * C)
  for (let p = 0, xi = n0 * H * W * C; p < plane; p++) {
    for (let c = 0; c < C; c++, xi++) xT[c * plane + p] = x[xi]
  }
  const sw = g.strideWidth
  let o = 0
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < g.filterWidth; fw++) {
      const [owBegin, owEnd] = tapRange(g, fw)
      for (let c = 0; c < C; c++) {
        for (let n = 0; n < count; n++) {
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * g.strideHeight + fh - g.padTop
            if (ih < 0 || ih >= H) {
              cols.fill(0, o, o + OW)
              o += OW
              continue
            }
            let ow = 0
            for (; ow < owBegin; ow++) cols[o++] = 0
            let xi = c * plane + (n * H + ih) * W + owBegin * sw + fw - g.padLeft
            for (; ow < owEnd; ow++, xi += sw) cols[o++] = xT[xi]
            for (; ow < OW; ow++) cols[o++] = 0
          }
        }
      }
    }
  }
}

/**
 * Adds the im2col-shaped gradient `cols` ([count * outH * outW, K], K ordered (fh, fw, c)) of
 * samples [n0, n0 + count) back onto the input positions each column was read from.
 */
function addColumnsToImage(
  cols: Float32Array,
  dx: Float32Array,
  g: Geometry,
  n0: number,
  count: number,
): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g
  const K = g.filterHeight * g.filterWidth * C
  let row = 0
  for (let n = n0; n < n0 + count; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, row += K) {
        for (let fh = 0; fh < g.filterHeight; fh++) {
          const ih = oh * g.strideHeight + fh - g.padTop
          if (ih < 0 || ih >= H) continue
          for (let fw = 0; fw < g.filterWidth; fw++) {
            const iw = ow * g.strideWidth + fw - g.padLeft
            if (iw < 0 || iw >= W) continue
            const d = ((n * H + ih) * W + iw) * C
            const s = row + (fh * g.filterWidth + fw) * C
            for (let c = 0; c < C; c++) dx[d + c] += cols[s + c]
          }
        }
      }
    }
  }
}

/** A fresh [1, rows, channels] copy of rows [first, first + rows) of a [*, channels] tensor. */
function copyRows(
  wasm: BackendWasm,
  src: TensorInfo,
  first: number,
  rows: number,
  channels: number,
): TensorInfo {
  const out = wasm.makeOutput([1, rows, channels], 'float32')
  view(wasm, out).set(view(wasm, src).subarray(first * channels, (first + rows) * channels))
  return out
}

/** colsT x dy for samples [n0, n0 + count): a [1, K, OC] partial filter gradient. */
function filterGradChunk(
  wasm: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  g: Geometry,
  n0: number,
  count: number,
): TensorInfo {
  const K = g.filterHeight * g.filterWidth * g.inChannels
  const pixels = g.outHeight * g.outWidth
  const cols = wasm.makeOutput([1, K, count * pixels], 'float32')
  let dyPart: TensorInfo | undefined
  try {
    // XNNPACK caches its packed right-hand operand by tensor id until that tensor is disposed, so
    // it gets a tensor of our own, disposed right after, rather than dy itself.
    dyPart = copyRows(wasm, dy, n0 * pixels, count * pixels, g.outChannels)
    // Views are taken after both allocations: growing the heap detaches earlier views.
    fillColumnsTransposed(view(wasm, x), view(wasm, cols), g, n0, count)
    const attrs = { transposeA: false, transposeB: false }
    return runWasmKernel('BatchMatMul', wasm, { a: cols, b: dyPart }, attrs)
  } finally {
    wasm.disposeData(cols.dataId)
    if (dyPart !== undefined) wasm.disposeData(dyPart.dataId)
  }
}

/**
 * `Conv2DBackpropFilter` for the wasm backend, missing upstream in tfjs 4.22.
 *
 * dW[K, OC] = colsT[K, M] x dy[M, OC] with K = fh * fw * inC and M = batch * outH * outW. The
 * im2col is written in JS straight into the wasm heap and the product runs in the wasm
 * `BatchMatMul` kernel, whose untransposed batch-1 case is XNNPACK's SIMD GEMM.
 */
export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const wasm = backend as BackendWasm
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
  checkSupported(Conv2DBackpropFilter, attrs, [x, dy])
  const { strides, pad, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttrs
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  )
  const g = geometryOf(info)
  const K = g.filterHeight * g.filterWidth * g.inChannels
  const perChunk = samplesPerChunk(g, K)

  let acc: TensorInfo | undefined
  try {
    for (let n0 = 0; n0 < g.batch && g.outHeight * g.outWidth > 0; n0 += perChunk) {
      const part = filterGradChunk(wasm, x, dy, g, n0, Math.min(perChunk, g.batch - n0))
      if (acc === undefined) {
        acc = part
        continue
      }
      const sum = view(wasm, acc)
      const add = view(wasm, part)
      for (let i = 0; i < sum.length; i++) sum[i] += add[i]
      wasm.disposeData(part.dataId)
    }
  } catch (error) {
    if (acc !== undefined) wasm.disposeData(acc.dataId)
    throw error
  }
  if (acc === undefined) {
    // Empty batch or empty output: the gradient is zero.
    return wasm.makeOutput(filterShape, 'float32', undefined, new Float32Array(K * g.outChannels))
  }
  const dw = runWasmKernel('Reshape', wasm, { x: acc }, { shape: filterShape })
  wasm.disposeData(acc.dataId)
  return dw
}

/**
 * `Conv2DBackpropInput` for the wasm backend. Upstream's is a direct C++ loop (about 1 GFLOP/s);
 * this one computes dcols[M, K] = dy[M, OC] x W^T[OC, K] with XNNPACK and adds the columns back
 * onto the image in JS (col2im), chunked over the batch like the filter gradient.
 */
export const conv2DBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const wasm = backend as BackendWasm
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo }
  checkSupported(Conv2DBackpropInput, attrs, [dy, filter])
  const { strides, pad, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
  )
  const g = geometryOf(info)
  const K = g.filterHeight * g.filterWidth * g.inChannels
  const OC = g.outChannels
  const pixels = g.outHeight * g.outWidth

  const dx = wasm.makeOutput(inputShape, 'float32')
  const wT = wasm.makeOutput([1, OC, K], 'float32')
  try {
    const w = view(wasm, filter)
    const t = view(wasm, wT)
    for (let k = 0; k < K; k++) for (let oc = 0; oc < OC; oc++) t[oc * K + k] = w[k * OC + oc]
    view(wasm, dx).fill(0)
    const perChunk = samplesPerChunk(g, K)
    for (let n0 = 0; n0 < g.batch && pixels > 0; n0 += perChunk) {
      const count = Math.min(perChunk, g.batch - n0)
      const dyPart = copyRows(wasm, dy, n0 * pixels, count * pixels, OC)
      let cols: TensorInfo
      try {
        const attrs = { transposeA: false, transposeB: false }
        cols = runWasmKernel('BatchMatMul', wasm, { a: dyPart, b: wT }, attrs)
      } finally {
        wasm.disposeData(dyPart.dataId)
      }
      addColumnsToImage(view(wasm, cols), view(wasm, dx), g, n0, count)
      wasm.disposeData(cols.dataId)
    }
  } catch (error) {
    wasm.disposeData(dx.dataId)
    throw error
  } finally {
    wasm.disposeData(wT.dataId)
  }
  return dx
}

/**
 * `MaxPoolGrad` for the wasm backend. Upstream's C++ loop revisits every window for every input
 * pixel; this one finds each window's maximum once (the first one in scan order, as tfjs' cpu
 * backend does) and adds dy there, a channel vector at a time.
 */
export const maxPoolGradWasm: KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const wasm = backend as BackendWasm
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo }
  checkSupported(MaxPoolGrad, attrs, [dy, input])
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs
  const info = backend_util.computePool2DInfo(
    input.shape as Shape4,
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  )
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C } = info
  const { outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info
  const { filterHeight: FH, filterWidth: FW } = info
  const { top: pt, left: pl } = info.padInfo

  const dx = wasm.makeOutput(input.shape, 'float32')
  const x = view(wasm, input)
  const d = view(wasm, dy)
  const out = view(wasm, dx)
  out.fill(0)
  const best = new Float32Array(C)
  const where = new Int32Array(C)
  let dyIndex = 0
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, dyIndex += C) {
        best.fill(-Infinity)
        where.fill(-1)
        for (let fh = 0; fh < FH; fh++) {
          const ih = oh * sh + fh - pt
          if (ih < 0 || ih >= H) continue
          for (let fw = 0; fw < FW; fw++) {
            const iw = ow * sw + fw - pl
            if (iw < 0 || iw >= W) continue
            const base = ((n * H + ih) * W + iw) * C
            for (let c = 0; c < C; c++) {
              const v = x[base + c]
              if (v > best[c]) {
                best[c] = v
                where[c] = base + c
              }
            }
          }
        }
        for (let c = 0; c < C; c++) if (where[c] >= 0) out[where[c]] += d[dyIndex + c]
      }
    }
  }
  return dx
}

/** Repeats `dst[offset, offset + block)` until it fills `times` consecutive blocks (doubling copies). */
function replicate(
  dst: Float32Array | Int32Array | Uint8Array,
  offset: number,
  block: number,
  times: number,
): void {
  const total = block * times
  for (let filled = block; filled < total;) {
    const n = Math.min(filled, total - filled)
    dst.copyWithin(offset + filled, offset, offset + n)
    filled += n
  }
}

/**
 * `Tile` for the wasm backend. Upstream's C++ loop computes every output index separately, which
 * made it the largest kernel in batch-norm backprop (it broadcasts per-channel vectors to whole
 * activations); this one lays each period down once and doubles it with `copyWithin`.
 */
export const tileWasm: KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const wasm = backend as BackendWasm
  const { x } = inputs as { x: TensorInfo }
  const { reps } = attrs as unknown as TileAttrs
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    throw new Error(`Tile (wasm): dtype ${x.dtype} unsupported`)
  }
  const rank = x.shape.length
  const outShape = x.shape.map((d, i) => d * reps[i])
  const out = wasm.makeOutput(outShape, x.dtype)
  if (outShape.some((d) => d === 0)) return out
  const src = wasm.typedArrayFromHeap(x)
  const dst = wasm.typedArrayFromHeap(out)
  if (rank === 0) {
    dst.set(src)
    return out
  }
  const inStrides = new Array<number>(rank)
  const outStrides = new Array<number>(rank)
  inStrides[rank - 1] = 1
  outStrides[rank - 1] = 1
  for (let d = rank - 2; d >= 0; d--) {
    inStrides[d] = inStrides[d + 1] * x.shape[d + 1]
    outStrides[d] = outStrides[d + 1] * outShape[d + 1]
  }
  // Fills the output region of one index of dims < dim: its first period, then the copies.
  const fill = (dim: number, inOffset: number, outOffset: number): void => {
    if (dim === rank - 1) {
      dst.set(src.subarray(inOffset, inOffset + x.shape[dim]), outOffset)
    } else {
      for (let i = 0; i < x.shape[dim]; i++) {
        fill(dim + 1, inOffset + i * inStrides[dim], outOffset + i * outStrides[dim])
      }
    }
    replicate(dst, outOffset, x.shape[dim] * outStrides[dim], reps[dim])
  }
  fill(0, 0, 0)
  return out
}

/** Kernels missing from tfjs-backend-wasm 4.22 that CNN training needs. */
export const WASM_MISSING_KERNELS: readonly KernelConfig[] = [
  { kernelName: Conv2DBackpropFilter, backendName: WASM, kernelFunc: conv2DBackpropFilterWasm },
]

/** Upstream wasm kernels replaced by faster ones: naive loops that would dominate training. */
export const WASM_FASTER_KERNELS: readonly KernelConfig[] = [
  { kernelName: Conv2DBackpropInput, backendName: WASM, kernelFunc: conv2DBackpropInputWasm },
  { kernelName: MaxPoolGrad, backendName: WASM, kernelFunc: maxPoolGradWasm },
  { kernelName: Tile, backendName: WASM, kernelFunc: tileWasm },
]

/**
 * Registers InkLab's wasm training kernels: the missing ones (today `Conv2DBackpropFilter`, left
 * alone if something already provides it) and the faster replacements. Idempotent. Returns the
 * names registered by this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = []
  for (const config of WASM_MISSING_KERNELS) {
    if (getKernel(config.kernelName, config.backendName) !== undefined) continue
    registerKernel(config)
    added.push(config.kernelName)
  }
  for (const config of WASM_FASTER_KERNELS) {
    const current = getKernel(config.kernelName, config.backendName)
    if (current?.kernelFunc === config.kernelFunc) continue
    // Unregistering first avoids tfjs' "already registered" warning.
    if (current !== undefined) unregisterKernel(config.kernelName, config.backendName)
    registerKernel(config)
    added.push(config.kernelName)
  }
  return added
}
