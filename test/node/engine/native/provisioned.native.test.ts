// Native TensorFlow as this machine has it (vitest project `native`, which CI requires to run).
import { lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'

import { nativePackageDir } from '@engine/backend/nativeLoader'
import { PINNED_WHEEL, readManifest } from '@engine/native/manifest'
import { verifyNativeTraining } from '@engine/native/verify'
import { useTestBackend } from '../../helpers/backend'

beforeAll(async () => {
  await useTestBackend()
})

describe('native TensorFlow here', () => {
  it('is the active backend and says where libtensorflow came from', async () => {
    const info = await useTestBackend()
    expect(info.name).toBe('native')
    const version = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding
      .TF_Version
    const manifest = readManifest(join(nativePackageDir()!, 'deps'))
    if (manifest) {
      // Provisioned by `inklab native install`: the pinned wheel's library is what runs.
      expect(manifest).toMatchObject({ version: PINNED_WHEEL.version, sha256: PINNED_WHEEL.sha256 })
      expect(version).toBe(PINNED_WHEEL.version)
      expect(info.detail).toContain(`from the PyPI tensorflow-cpu ${PINNED_WHEEL.version} wheel`)
    } else {
      expect(info.detail).toContain("tfjs-node's own libtensorflow")
    }
  })

  it('keeps only real files in deps/ (what packaging copies and the binding loads)', () => {
    const deps = join(nativePackageDir()!, 'deps')
    const entries = readdirSync(deps, { recursive: true }).map(String)
    const links = entries.filter((e) => lstatSync(join(deps, e)).isSymbolicLink())
    if (readManifest(deps)) {
      expect(links).toEqual([])
      expect(entries).toEqual(
        expect.arrayContaining(['lib/libtensorflow_cc.so.2', 'lib/libtensorflow_framework.so.2']),
      )
    }
  })

  it('trains: the check `inklab native install` runs passes', async () => {
    const check = await verifyNativeTraining()
    expect(check.lossAfter).toBeLessThan(check.lossBefore)
  })
})
