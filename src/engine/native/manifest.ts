import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** File in tfjs-node's `deps/` folder that records how InkLab provisioned libtensorflow there. */
export const MANIFEST_FILE = 'inklab-native.json'

/** How libtensorflow came to be in tfjs-node's `deps/` when InkLab put it there. */
export interface NativeManifest {
  /** Always the official wheel on PyPI. */
  source: 'pypi-wheel'
  /** PyPI project, e.g. `tensorflow-cpu`. */
  project: string
  version: string
  wheel: string
  sha256: string
  /** ISO time of the provisioning. */
  provisionedAt: string
}

/** The pinned official TensorFlow wheel whose C library InkLab provisions (Linux x64). */
export const PINNED_WHEEL = {
  project: 'tensorflow-cpu',
  version: '2.21.0',
  file: 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
  sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
  /** pip's target for the download: any Python works, the C library does not use it. */
  pythonVersion: '3.11',
  platform: 'manylinux_2_27_x86_64',
  /** The wheel's manylinux tag: the oldest glibc it runs on. */
  minGlibc: '2.27',
} as const

/** Reads the manifest in `depsDir`; undefined when absent or unreadable. */
export function readManifest(depsDir: string): NativeManifest | undefined {
  const path = join(depsDir, MANIFEST_FILE)
  if (!existsSync(path)) return undefined
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<NativeManifest>
    if (value.source !== 'pypi-wheel' || typeof value.version !== 'string') return undefined
    return value as NativeManifest
  } catch {
    return undefined
  }
}

/** A few words on where native TensorFlow came from. */
export function describeProvenance(manifest: NativeManifest | undefined): string {
  if (!manifest) return "tfjs-node's own libtensorflow"
  const day = manifest.provisionedAt.slice(0, 10)
  return `from the PyPI ${manifest.project} ${manifest.version} wheel, set up by inklab native install on ${day}`
}
