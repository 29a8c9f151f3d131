import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { ONNX_METADATA_KEYS, ONNX_OPSET, writeModelExport } from '@engine/io/export'
import { tfPads } from '@engine/io/export/onnxModel'
import { readProtoFields, type ProtoField } from '@engine/io/protobuf'
import { buildModel } from '@engine/model/build'
import { PRESETS } from '@engine/model/presets'
import { EXPORT_INPUT } from '@shared/schemas/export'
import { testMetadata } from '../../../helpers/modelFixtures'
import { makeTmpDir } from '../../../helpers/tmpDir'

const text = (value: ProtoField['value']): string => new TextDecoder().decode(value as Uint8Array)
const fieldsOf = (fields: ProtoField[], n: number): ProtoField[] =>
  fields.filter((f) => f.field === n)

let tmp: Awaited<ReturnType<typeof makeTmpDir>>
let model: tf.Sequential
let bytes: Uint8Array
let out: string

beforeAll(async () => {
  await tf.setBackend('cpu')
  tmp = await makeTmpDir('inklab-onnx-')
  model = buildModel(PRESETS.classic.architecture, 3, 1)
  out = join(tmp.dir, 'model.onnx')
  await writeModelExport(model, testMetadata({ labels: ['x', 'ü', '字'] }), { format: 'onnx', out })
  bytes = new Uint8Array(await readFile(out))
})

afterAll(async () => {
  model.dispose()
  await tmp.cleanup()
})

describe('ONNX export', () => {
  it('declares IR version 7 and the default opset 13', () => {
    const fields = readProtoFields(bytes)
    expect(fieldsOf(fields, 1)[0].value).toBe(7n)
    const opset = readProtoFields(fieldsOf(fields, 8)[0].value as Uint8Array)
    expect(text(opset.find((f) => f.field === 1)!.value)).toBe('')
    expect(opset.find((f) => f.field === 2)!.value).toBe(BigInt(ONNX_OPSET))
    expect(text(fieldsOf(fields, 2)[0].value)).toBe('InkLab')
  })

  it('carries the labels and the input convention in metadata_props', () => {
    const props = Object.fromEntries(
      fieldsOf(readProtoFields(bytes), 14).map((f) => {
        const entry = readProtoFields(f.value as Uint8Array)
        return [text(entry[0].value), text(entry[1].value)]
      }),
    )
    expect(JSON.parse(props[ONNX_METADATA_KEYS.labels])).toEqual(['x', 'ü', '字'])
    expect(props[ONNX_METADATA_KEYS.input]).toMatch(/28x28x1 .*\[0, 1\].*white ink on black/)
    const meta = JSON.parse(props[ONNX_METADATA_KEYS.metadata])
    expect(meta.labels).toEqual(['x', 'ü', '字'])
    expect(meta.input.ink).toBe(EXPORT_INPUT.ink)
  })

  it('takes (batch, 28, 28, 1) input and gives (batch, classes) probabilities', async () => {
    const session = await ort.InferenceSession.create(bytes)
    try {
      expect(session.inputNames).toEqual(['input'])
      expect(session.outputNames).toEqual(['probabilities'])
      const input = new Float32Array(5 * 784).fill(0.25)
      const result = await session.run({ input: new ort.Tensor('float32', input, [5, 28, 28, 1]) })
      expect(result.probabilities.dims).toEqual([5, 3])
      const row = Array.from(result.probabilities.data as Float32Array).slice(0, 3)
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    } finally {
      await session.release()
    }
  })
})

describe('tfPads', () => {
  it('pads like TensorFlow: nothing for valid, the odd pixel at the bottom/right for same', () => {
    expect(tfPads('valid', [28, 28], [3, 3], [1, 1])).toEqual([0, 0, 0, 0])
    expect(tfPads('same', [28, 28], [3, 3], [1, 1])).toEqual([1, 1, 1, 1])
    expect(tfPads('same', [28, 28], [5, 5], [2, 2])).toEqual([1, 1, 2, 2])
    expect(tfPads('same', [10, 10], [4, 4], [3, 3])).toEqual([1, 1, 2, 2])
    expect(tfPads('same', [5, 5], [2, 2], [4, 4])).toEqual([0, 0, 1, 1])
    expect(tfPads('same', [3, 3], [2, 2], [4, 4])).toEqual([0, 0, 0, 0])
  })
})
