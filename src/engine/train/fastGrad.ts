import * as tf from '@tensorflow/tfjs'

/**
 * Training-time replacements for two ops whose gradients are slow on the wasm backend:
 * Conv2DBackpropInput and MaxPoolGrad are plain loops there, tens of times slower than the XNNPACK
 * forward convolution. Both functions compute exactly the same values and gradients as
 * `tf.conv2d` / `tf.maxPool`, through ops that wasm runs fast.
 */

/** Output size and leading padding of one spatial axis, as tfjs computes them (NHWC, no dilation). */
function axisGeometry(
  size: number,
  kernel: number,
  stride: number,
  padding: 'same' | 'valid',
): { out: number; padBefore: number } {
  if (padding === 'valid') return { out: Math.floor((size - kernel) / stride) + 1, padBefore: 0 }
  const out = Math.ceil(size / stride)
  const total = Math.max(0, (out - 1) * stride + kernel - size)
  return { out, padBefore: Math.floor(total / 2) }
}

/**
 * Inserts `stride - 1` zeros after every row and column of `dy` ([b, h, w, c] -> [b, h*s, w*s, c]),
 * the "dilated" output gradient whose correlation with the flipped filter is the input gradient.
 */
function dilate(dy: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (stride === 1) return dy
  const [b, h, w, c] = dy.shape
  const spaced = tf.pad(tf.reshape(dy, [b, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, stride - 1],
    [0, 0],
    [0, stride - 1],
    [0, 0],
  ])
  return tf.reshape(spaced, [b, h * stride, w * stride, c])
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes of `x`. */
function padOrCrop(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  const cropped =
    top < 0 || bottom < 0 || left < 0 || right < 0
      ? tf.slice(
          x,
          [0, Math.max(0, -top), Math.max(0, -left), 0],
          [
            -1,
            x.shape[1] - Math.max(0, -top) - Math.max(0, -bottom),
            x.shape[2] - Math.max(0, -left) - Math.max(0, -right),
            -1,
          ],
        )
      : x
  const [t, b, l, r] = [top, bottom, left, right].map((n) => Math.max(0, n))
  return t + b + l + r === 0
    ? cropped
    : tf.pad(cropped, [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ])
}

/**
 * The gradient of `conv2d(x, filter)` with respect to `x`, computed as a forward stride-1
 * convolution of the dilated, padded output gradient with the spatially flipped, channel-swapped
 * filter.
 */
export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  stride: number,
  padding: 'same' | 'valid',
): tf.Tensor4D {
  return tf.tidy(() => {
    const [, height, width] = inputShape
    const [kh, kw] = filter.shape
    const rows = axisGeometry(height, kh, stride, padding)
    const cols = axisGeometry(width, kw, stride, padding)
    const spread = dilate(dy, stride)
    // A stride-1 'valid' correlation over (kernel - 1 - padBefore) leading and enough trailing
    // padding yields exactly `height` x `width` outputs.
    const top = kh - 1 - rows.padBefore
    const left = kw - 1 - cols.padBefore
    const bottom = height + kh - 1 - top - spread.shape[1]
    const right = width + kw - 1 - left - spread.shape[2]
    const padded = padOrCrop(spread, top, bottom, left, right)
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D
    return tf.conv2d(padded, flipped, 1, 'valid')
  })
}

/**
 * `tf.conv2d(x, filter, stride, padding)` whose input gradient uses `conv2dInputGrad`; the filter
 * gradient uses the registered Conv2DBackpropFilter kernel, as tfjs' own gradient does.
 */
export function conv2dFastGrad(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  padding: 'same' | 'valid',
): tf.Tensor4D {
  const op = tf.customGrad((input, weights, save) => {
    const x4 = input as tf.Tensor4D
    const w4 = weights as tf.Tensor4D
    // customGrad passes the save function as the last argument, typed as a union with Tensor.
    const saveForGradient = save as (tensors: tf.Tensor[]) => void
    saveForGradient([x4, w4])
    return {
      value: tf.conv2d(x4, w4, stride, padding),
      gradFunc: (dy, saved) => {
        const [savedX, savedW] = saved as [tf.Tensor4D, tf.Tensor4D]
        const dy4 = dy as tf.Tensor4D
        const dx = conv2dInputGrad(dy4, savedW, savedX.shape, stride, padding)
        const dw = tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: savedX, dy: dy4 },
          {
            strides: [stride, stride],
            pad: padding,
            dataFormat: 'NHWC',
            dimRoundingMode: undefined,
            filterShape: savedW.shape,
          } as unknown as tf.NamedAttrMap, // NamedAttrMap has no `undefined`; the kernel reads it as absent.
        ) as tf.Tensor4D
        return [dx, dw]
      },
    }
  })
  return op(x, filter) as tf.Tensor4D
}

/**
 * `tf.maxPool(x, pool, pool, 'valid')` with a gradient built from nearest-neighbour upsampling and an
 * equality mask, all same-shape ops that wasm runs fast. Ties send the gradient to every maximal
 * input (tfjs picks one); after a ReLU the only common tie is at 0, where the ReLU gradient is 0.
 */
export function maxPoolFastGrad(x: tf.Tensor4D, pool: number): tf.Tensor4D {
  const op = tf.customGrad((input, save) => {
    const x4 = input as tf.Tensor4D
    const y = tf.maxPool(x4, pool, pool, 'valid')
    const saveForGradient = save as (tensors: tf.Tensor[]) => void
    saveForGradient([x4, y])
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [savedX, savedY] = saved as [tf.Tensor4D, tf.Tensor4D]
        const [, h, w] = savedX.shape
        const [, oh, ow] = savedY.shape
        const size: [number, number] = [oh * pool, ow * pool]
        const covered =
          size[0] === h && size[1] === w
            ? savedX
            : tf.slice(savedX, [0, 0, 0, 0], [-1, size[0], size[1], -1])
        const mask = tf.equal(covered, tf.image.resizeNearestNeighbor(savedY, size))
        const spread = tf.where(
          mask,
          tf.image.resizeNearestNeighbor(dy as tf.Tensor4D, size),
          tf.zerosLike(covered),
        )
        return padOrCrop(spread, 0, h - size[0], 0, w - size[1])
      },
    }
  })
  return op(x) as tf.Tensor4D
}
