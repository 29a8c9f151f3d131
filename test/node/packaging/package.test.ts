import { execFileSync } from 'node:child_process'
import { builtinModules } from 'node:module'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { listPackage } from '@electron/asar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'

import { ensureBuilt } from '../helpers/build'

const ROOT = resolve(__dirname, '../../..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>
  optionalDependencies: Record<string, string>
}
const config = parseYaml(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as {
  electronVersion: string
  electronFuses: Record<string, boolean>
  asarUnpack: string[]
  files: string[]
  linux: { target: string[] }
  win: { target: string[] }
  mac: { target: string[] }
}

describe('electron-builder configuration', () => {
  it('pins the same Electron version the project installs', () => {
    expect(config.electronVersion).toBe(pkg.optionalDependencies.electron)
  })

  it('builds AppImage and deb, NSIS and dmg', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']))
    expect(config.win.target).toContain('nsis')
    expect(config.mac.target).toContain('dmg')
  })

  it('sets the fuses the Electron security checklist asks for: no run-as-node, NODE_OPTIONS or inspect', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    })
  })

  it('unpacks the native addons from the asar archive', () => {
    for (const glob of [
      'node_modules/@tensorflow/tfjs-node/**',
      'node_modules/sharp/**',
      'node_modules/@img/**',
      '**/*.node',
    ]) {
      expect(config.asarUnpack).toContain(glob)
    }
  })
})

/** Where Electron's fuse wire sits in its binary (@electron/fuses finds it by this sentinel). */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'
/** The fuses in wire order, as @electron/fuses' FuseV1Options numbers them. */
const FUSE_ORDER = [
  'runAsNode',
  'enableCookieEncryption',
  'enableNodeOptionsEnvironmentVariable',
  'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation',
  'onlyLoadAppFromAsar',
  'loadBrowserProcessSpecificV8Snapshot',
  'grantFileProtocolExtraPrivileges',
]
/** Electron's own defaults for those fuses ('1' on, '0' off). */
const ELECTRON_DEFAULT_FUSES = '10110001'

/**
 * A stand-in for the Electron distribution, which cannot be downloaded here: packaging needs only
 * its layout, and a binary with Electron's fuse wire (version 1) so the fuses can be flipped.
 */
function fakeElectronDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inklab-fake-electron-'))
  writeFileSync(
    join(dir, 'electron'),
    Buffer.concat([
      Buffer.from(`#!/bin/sh\n# ${FUSE_SENTINEL}`),
      Buffer.from([1, FUSE_ORDER.length]),
      Buffer.from(ELECTRON_DEFAULT_FUSES),
      Buffer.from('\n'),
    ]),
  )
  chmodSync(join(dir, 'electron'), 0o755)
  writeFileSync(join(dir, 'version'), `v${config.electronVersion}`)
  writeFileSync(join(dir, 'LICENSE'), '')
  writeFileSync(join(dir, 'LICENSES.chromium.html'), '')
  mkdirSync(join(dir, 'resources'))
  mkdirSync(join(dir, 'locales'))
  return dir
}

/** Bare package names the built main-process bundles require at run time. */
function runtimeRequires(dir: string): Set<string> {
  const names = new Set<string>()
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue
    const source = readFileSync(join(entry.parentPath, entry.name), 'utf8')
    for (const m of source.matchAll(/require\(["']([^"'.][^"']*)["']\)/g)) {
      const spec = m[1]
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
      if (name === 'electron' || name.startsWith('node:') || builtinModules.includes(name)) continue
      names.add(name)
    }
  }
  return names
}

/** tfjs-node's folder when its binding is built here (native TensorFlow provisioned), else null. */
function nativeBinding(): { dir: string; binding: string } | null {
  const dir = join(ROOT, 'node_modules/@tensorflow/tfjs-node')
  const libDir = join(dir, 'lib')
  if (!existsSync(libDir)) return null
  const binding = readdirSync(libDir, { recursive: true })
    .map(String)
    .find((f) => f.endsWith('tfjs_binding.node'))
  return binding ? { dir, binding: join('lib', binding) } : null
}

describe('the packaged app (electron-builder --dir, Linux)', () => {
  let files: Set<string>
  let unpacked: string
  let resources: string
  let appDir: string
  let out: string
  let electronDist: string

  afterAll(() => {
    for (const dir of [out, electronDist]) if (dir) rmSync(dir, { recursive: true, force: true })
  })

  beforeAll(async () => {
    await ensureBuilt()
    out = mkdtempSync(join(tmpdir(), 'inklab-pack-'))
    electronDist = fakeElectronDist()
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/electron-builder/cli.js'),
        '--linux',
        'dir',
        '--publish',
        'never',
        `-c.electronDist=${electronDist}`,
        `-c.directories.output=${out}`,
      ],
      { cwd: ROOT, stdio: 'pipe' },
    )
    appDir = join(out, 'linux-unpacked')
    resources = join(appDir, 'resources')
    unpacked = join(resources, 'app.asar.unpacked')
    files = new Set(
      listPackage(join(resources, 'app.asar'), { isPack: false }).map((f) => f.replace(/\\/g, '/')),
    )
  }, 300_000)

  const has = (path: string): boolean => files.has(path) || existsSync(join(unpacked, path))

  it('flips the fuses in the packaged binary as configured', () => {
    const binary = readdirSync(appDir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => ({ name: entry.name, bytes: readFileSync(join(appDir, entry.name)) }))
      .find(({ bytes }) => bytes.includes(FUSE_SENTINEL))
    expect(binary, 'the packaged Electron binary').toBeDefined()
    const bytes = binary!.bytes
    const wire = bytes.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length
    expect(bytes[wire]).toBe(1)
    const flipped = bytes.subarray(wire + 2, wire + 2 + FUSE_ORDER.length).toString()
    expect(flipped).toBe(
      FUSE_ORDER.map((name) => (config.electronFuses[name] ? '1' : '0')).join(''),
    )
  })

  it('holds every entry point the app starts', () => {
    for (const entry of [
      '/out/main/index.js',
      '/out/main/engineHost.js',
      '/out/preload/index.cjs',
      '/out/renderer/index.html',
      '/package.json',
    ]) {
      expect(has(entry), entry).toBe(true)
    }
  })

  it('holds every script and stylesheet the window loads', () => {
    const html = readFileSync(join(ROOT, 'out/renderer/index.html'), 'utf8')
    const assets = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map((m) => m[1])
    expect(assets.length).toBeGreaterThan(0)
    for (const asset of assets) expect(has(`/out/renderer/${asset}`), asset).toBe(true)
  })

  it('holds every package the main process and the engine host require', () => {
    const required = runtimeRequires(join(ROOT, 'out/main'))
    expect(required).toContain('@tensorflow/tfjs')
    expect(required).toContain('sharp')
    for (const name of required) {
      const declared = name in pkg.dependencies || name in pkg.optionalDependencies
      expect(declared, `${name} is required at run time but not a (optional) dependency`).toBe(true)
      if (name in pkg.optionalDependencies && !existsSync(join(ROOT, 'node_modules', name)))
        continue
      expect(has(`/node_modules/${name}/package.json`), `${name} is not in the package`).toBe(true)
    }
  })

  it('keeps native code and WebAssembly outside the archive', () => {
    const sharpBinaries = readdirSync(join(unpacked, 'node_modules/@img'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.node'))
    expect(sharpBinaries.length).toBeGreaterThan(0)
    const wasm = readdirSync(join(unpacked, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'))
    expect(wasm).toContain('tfjs-backend-wasm-simd.wasm')
  })

  it('ships the pretrained MNIST model and the icon as resources, and not Electron itself', () => {
    for (const f of ['model.json', 'weights.bin', 'metadata.json']) {
      expect(existsSync(join(resources, 'models', 'mnist', f)), f).toBe(true)
    }
    expect(existsSync(join(resources, 'icon.png'))).toBe(true)
    expect([...files].some((f) => f.startsWith('/node_modules/electron/'))).toBe(false)
  })

  it('unpacks native TensorFlow where it is built: the binding, and its two libraries as files where its rpath looks', () => {
    const native = nativeBinding()
    const packaged = join(unpacked, 'node_modules/@tensorflow/tfjs-node')
    if (!native) {
      // Nothing half-shipped: without a built binding the package holds no tfjs-node binary.
      expect(existsSync(join(packaged, 'lib'))).toBe(false)
      return
    }
    const binding = join(packaged, native.binding)
    expect(existsSync(binding), native.binding).toBe(true)
    // The binding's rpath is $ORIGIN/../../deps/lib and it needs the libraries by their sonames.
    for (const library of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
      const shipped = join(packaged, 'deps/lib', library)
      expect(statSync(shipped).isFile(), library).toBe(true)
      expect(statSync(shipped).size).toBe(statSync(join(native.dir, 'deps/lib', library)).size)
    }
    const stray = readdirSync(join(packaged, 'deps'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isSymbolicLink() || /inklab-(staging|old)/.test(e.parentPath + e.name))
      .map((e) => e.name)
    expect(stray).toEqual([])
    // The unpacked binding loads from there in a fresh process and resolves both libraries there.
    const maps = execFileSync(
      process.execPath,
      [
        '-e',
        `process.dlopen({ exports: {} }, ${JSON.stringify(binding)});` +
          `process.stdout.write(require('fs').readFileSync('/proc/self/maps', 'utf8'))`,
      ],
      { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } },
    )
    for (const library of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
      expect(maps).toContain(join(packaged, 'deps/lib', library))
    }
  })
})
