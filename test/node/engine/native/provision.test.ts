import { createHash } from 'node:crypto'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { MANIFEST_FILE, readManifest } from '@engine/native/manifest'
import {
  buildBinding,
  cacheDirectory,
  checkPlatform,
  checkPrerequisites,
  ensurePackage,
  fetchWheel,
  headerClosure,
  NativeSetupError,
  provisionNative,
  quotedIncludes,
  stageDeps,
  type CommandResult,
  type ProvisionHost,
  type WheelSpec,
} from '@engine/native/provision'
import { ZipReader } from '@engine/native/zipReader'
import { makeTmpDir } from '../../helpers/tmpDir'
import { writeZip } from '../../helpers/zip'

type Handler = (command: string, args: string[], cwd?: string) => CommandResult | undefined

/** A machine where every tool works unless `handler` answers otherwise; records each command. */
function fakeHost(handler: Handler = () => undefined, extra: Partial<ProvisionHost> = {}) {
  const calls: string[] = []
  const host: ProvisionHost = {
    platform: 'linux',
    arch: 'x64',
    glibc: '2.36',
    execPath: '/opt/node/bin/node',
    systemPrefixes: [],
    env: {},
    interactive: false,
    async run(command, args, options) {
      calls.push([command, ...args].join(' '))
      return handler(command, args, options?.cwd) ?? { code: 0, output: '' }
    },
    ...extra,
  }
  return { host, calls }
}

const missing = (output = 'not found'): CommandResult => ({ code: 127, output })

let tmp: { dir: string; cleanup: () => Promise<void> }
beforeEach(async () => {
  tmp = await makeTmpDir()
})
afterEach(() => tmp.cleanup())

/** A Node prefix with headers, for the nodedir check. */
function nodePrefix(): string {
  const prefix = join(tmp.dir, 'node')
  mkdirSync(join(prefix, 'include', 'node'), { recursive: true })
  writeFileSync(join(prefix, 'include', 'node', 'node_api.h'), '')
  return prefix
}

describe('checkPlatform', () => {
  it('accepts Linux x64 with a recent glibc', () => {
    expect(() => checkPlatform(fakeHost().host)).not.toThrow()
  })

  it.each([
    [
      { platform: 'darwin' as const, arch: 'arm64' },
      /unsupported platform darwin arm64.*Linux x64 only/,
    ],
    [{ platform: 'win32' as const, arch: 'x64' }, /unsupported platform win32 x64/],
    [{ arch: 'arm64' }, /unsupported platform linux arm64/],
    [{ glibc: '2.17' }, /glibc 2\.17 is too old: .* needs glibc 2\.27 or newer/],
    [{ glibc: undefined }, /no glibc \(musl\?\)/],
  ])('refuses %o in one line', (extra, message) => {
    const { host } = fakeHost(undefined, extra)
    expect(() => checkPlatform(host)).toThrow(NativeSetupError)
    expect(() => checkPlatform(host)).toThrow(message)
  })
})

describe('checkPrerequisites', () => {
  it('finds python3 with pip, the compiler, make and the headers beside node', async () => {
    const prefix = nodePrefix()
    const { host } = fakeHost(undefined, { execPath: join(prefix, 'bin', 'node') })
    expect(await checkPrerequisites(host)).toEqual({ python: 'python3', nodedir: prefix })
  })

  it('prefers npm_config_nodedir and falls back to python', async () => {
    const prefix = nodePrefix()
    const { host } = fakeHost((c) => (c === 'python3' ? missing() : undefined), {
      env: { npm_config_nodedir: prefix },
    })
    expect(await checkPrerequisites(host)).toEqual({ python: 'python', nodedir: prefix })
  })

  it.each<[string, Handler, RegExp]>([
    [
      'no Python',
      (c) => (c.startsWith('python') ? missing() : undefined),
      /Python 3 with pip is missing.*apt install python3 python3-pip/,
    ],
    [
      'Python without pip',
      (c, a) =>
        c.startsWith('python') && a[0] === '-m' ? missing('No module named pip') : undefined,
      /pip is missing.*apt install python3-pip/,
    ],
    [
      'no C++ compiler',
      (c) => (c === 'c++' ? missing() : undefined),
      /no C\+\+ compiler \(c\+\+\).*apt install build-essential/,
    ],
    ['no make', (c) => (c === 'make' ? missing() : undefined), /make is missing.*build-essential/],
  ])('names what to install: %s', async (_, handler, message) => {
    const { host } = fakeHost(handler, { execPath: join(nodePrefix(), 'bin', 'node') })
    await expect(checkPrerequisites(host)).rejects.toThrow(message)
  })

  it('names where it looked for Node headers', async () => {
    const { host } = fakeHost(undefined, { execPath: join(tmp.dir, 'bin', 'node') })
    await expect(checkPrerequisites(host)).rejects.toThrow(
      new RegExp(
        `Node's C headers were not found \\(no include/node/node_api.h under ${tmp.dir}\\).*libnode-dev`,
      ),
    )
  })
})

describe('ensurePackage', () => {
  it('leaves an installed tfjs-node alone', async () => {
    const dir = join(tmp.dir, 'node_modules', '@tensorflow', 'tfjs-node')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), '{}')
    const { host, calls } = fakeHost()
    expect(await ensurePackage(tmp.dir, host, () => undefined)).toBe(dir)
    expect(calls).toEqual([])
  })

  it('puts it back with npm install --ignore-scripts, or says why it could not', async () => {
    const dir = join(tmp.dir, 'node_modules', '@tensorflow', 'tfjs-node')
    const { host, calls } = fakeHost((_c, _a, cwd) => {
      expect(cwd).toBe(tmp.dir)
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'package.json'), '{}')
      return undefined
    })
    expect(await ensurePackage(tmp.dir, host, () => undefined)).toBe(dir)
    expect(calls[0]).toMatch(/^npm install --ignore-scripts/)
    const failing = fakeHost(() => ({
      code: 1,
      output: 'npm error code E404\nnpm error 404 Not Found',
    }))
    await expect(
      ensurePackage(join(tmp.dir, 'other'), failing.host, () => undefined),
    ).rejects.toThrow(
      /npm could not install @tensorflow\/tfjs-node \(npm error code E404 \| npm error 404 Not Found\)/,
    )
  })
})

describe('fetchWheel', () => {
  const content = 'not really a wheel'
  const spec: WheelSpec = {
    project: 'tensorflow-cpu',
    version: '9.9.9',
    file: 'tensorflow_cpu-9.9.9-py3-none-any.whl',
    sha256: createHash('sha256').update(content).digest('hex'),
    pythonVersion: '3.11',
    platform: 'manylinux_2_27_x86_64',
  }
  /** A pip that writes `body` as the wheel into --dest. */
  const pip =
    (body: string): Handler =>
    (_c, args) => {
      const dest = args[args.indexOf('--dest') + 1]
      mkdirSync(dest, { recursive: true })
      writeFileSync(join(dest, spec.file), body)
      return undefined
    }

  it('downloads with pip for the wheel’s platform, checks the checksum, then reuses the cache', async () => {
    const { host, calls } = fakeHost(pip(content))
    const path = await fetchWheel(tmp.dir, 'python3', host, () => undefined, spec)
    expect(path).toBe(join(tmp.dir, 'wheels', spec.file))
    expect(readFileSync(path, 'utf8')).toBe(content)
    expect(calls[0]).toMatch(
      /^python3 -m pip download --no-deps --only-binary=:all: .*--python-version 3\.11 --platform manylinux_2_27_x86_64 --dest .* tensorflow-cpu==9\.9\.9$/,
    )
    const again = fakeHost(() => missing())
    expect(await fetchWheel(tmp.dir, 'python3', again.host, () => undefined, spec)).toBe(path)
    expect(again.calls).toEqual([])
  })

  it('clears downloads an earlier run left half-done', async () => {
    mkdirSync(join(tmp.dir, 'wheels', 'download-12345'), { recursive: true })
    writeFileSync(join(tmp.dir, 'wheels', 'download-12345', 'partial.whl'), 'partial')
    const { host } = fakeHost(pip(content))
    await fetchWheel(tmp.dir, 'python3', host, () => undefined, spec)
    expect(readdirSync(join(tmp.dir, 'wheels'))).toEqual([spec.file])
  })

  it('lets pip draw its own progress bar when a person watches the terminal', async () => {
    const seen: (boolean | undefined)[] = []
    const base = fakeHost(pip(content), { interactive: true }).host
    const host: ProvisionHost = {
      ...base,
      run: (command, args, options) => {
        seen.push(options?.passthrough)
        return base.run(command, args, options)
      },
    }
    await fetchWheel(tmp.dir, 'python3', host, () => undefined, spec)
    expect(seen).toEqual([true])
    const failing = fakeHost(() => ({ code: 1, output: '' }), { interactive: true })
    await expect(
      fetchWheel(join(tmp.dir, 'other'), 'python3', failing.host, () => undefined, spec),
    ).rejects.toThrow(
      /pip could not download tensorflow-cpu==9\.9\.9 from PyPI: see pip's output above/,
    )
  })

  it('downloads again over a cached wheel that fails its checksum', async () => {
    mkdirSync(join(tmp.dir, 'wheels'))
    writeFileSync(join(tmp.dir, 'wheels', spec.file), 'truncated')
    const lines: string[] = []
    const { host, calls } = fakeHost(pip(content))
    await fetchWheel(tmp.dir, 'python3', host, (l) => lines.push(l), spec)
    expect(calls).toHaveLength(1)
    expect(lines[0]).toMatch(/does not match its pinned checksum/)
  })

  it('refuses a download with another checksum and keeps nothing', async () => {
    const { host } = fakeHost(pip('tampered'))
    await expect(fetchWheel(tmp.dir, 'python3', host, () => undefined, spec)).rejects.toThrow(
      /has SHA-256 [0-9a-f]{64}, not the pinned [0-9a-f]{64}: refusing it/,
    )
    expect(existsSync(join(tmp.dir, 'wheels', spec.file))).toBe(false)
  })

  it('passes on pip’s own reason when the download fails', async () => {
    const { host } = fakeHost(() => ({
      code: 1,
      output:
        'Looking in indexes: https://pypi.org/simple\nERROR: No matching distribution found for tensorflow-cpu==9.9.9',
    }))
    await expect(fetchWheel(tmp.dir, 'python3', host, () => undefined, spec)).rejects.toThrow(
      /pip could not download tensorflow-cpu==9\.9\.9 from PyPI: ERROR: No matching distribution found/,
    )
  })
})

describe('wheel contents', () => {
  /** A wheel laid out like TensorFlow's, with a header tree and unrelated files. */
  function fakeWheel(): string {
    const path = join(tmp.dir, 'tf.whl')
    writeZip(
      path,
      {
        'tensorflow/': '',
        'tensorflow/libtensorflow_cc.so.2': 'CC'.repeat(5000),
        'tensorflow/libtensorflow_framework.so.2': 'FW',
        'tensorflow/python/_pywrap.so': 'unused',
        'tensorflow/include/tensorflow/c/c_api.h':
          '#include "tensorflow/c/tf_status.h"\n#include <stdint.h>\n',
        'tensorflow/include/tensorflow/c/tf_status.h': '  #  include "xla/tsl/c/tsl_status.h"\n',
        'tensorflow/include/xla/tsl/c/tsl_status.h': '// leaf\n',
        'tensorflow/include/tensorflow/c/eager/c_api.h': '#include "tensorflow/c/c_api.h"\n',
        'tensorflow/include/tensorflow/core/unrelated.h': '// not needed\n',
      },
      ['tensorflow/libtensorflow_framework.so.2'],
    )
    return path
  }

  /** tfjs-node's folder with binding sources that include two TensorFlow headers. */
  function fakePackage(): string {
    const dir = join(tmp.dir, 'tfjs-node')
    mkdirSync(join(dir, 'binding'), { recursive: true })
    writeFileSync(
      join(dir, 'binding', 'tfjs_backend.cc'),
      '#include "tfjs_backend.h"\n#include "tensorflow/c/eager/c_api.h"\n#include <node_api.h>\n',
    )
    writeFileSync(join(dir, 'binding', 'tfjs_backend.h'), '#include "tensorflow/c/c_api.h"\n')
    writeFileSync(join(dir, 'binding', 'README.md'), '#include "tensorflow/core/unrelated.h"\n')
    return dir
  }

  it('reads quoted includes that name a path', () => {
    expect(
      quotedIncludes(
        '#include "a/b.h"\n# include "local.h"\n#include <c/d.h>\n  #  include "e/f.h"',
      ),
    ).toEqual(['a/b.h', 'e/f.h'])
  })

  it('follows the binding’s includes through the wheel', async () => {
    const wheel = await ZipReader.open(fakeWheel())
    try {
      expect(await headerClosure(wheel, ['#include "tensorflow/c/eager/c_api.h"'])).toEqual([
        'tensorflow/c/c_api.h',
        'tensorflow/c/eager/c_api.h',
        'tensorflow/c/tf_status.h',
        'xla/tsl/c/tsl_status.h',
      ])
    } finally {
      await wheel.close()
    }
  })

  it('stages the two libraries, the needed headers and the link names, replacing old deps', async () => {
    const pkg = fakePackage()
    mkdirSync(join(pkg, 'deps', 'lib'), { recursive: true })
    writeFileSync(join(pkg, 'deps', 'lib', 'libtensorflow.so.2.9.1'), 'old')
    await stageDeps(fakeWheel(), pkg, () => undefined)
    const lib = join(pkg, 'deps', 'lib')
    expect(readFileSync(join(lib, 'libtensorflow_cc.so.2'), 'utf8')).toBe('CC'.repeat(5000))
    expect(readFileSync(join(lib, 'libtensorflow_framework.so.2'), 'utf8')).toBe('FW')
    expect(readlinkSync(join(lib, 'libtensorflow.so'))).toBe('libtensorflow_cc.so.2')
    expect(readlinkSync(join(lib, 'libtensorflow_framework.so'))).toBe(
      'libtensorflow_framework.so.2',
    )
    expect(existsSync(join(lib, 'libtensorflow.so.2.9.1'))).toBe(false)
    for (const h of [
      'tensorflow/c/c_api.h',
      'tensorflow/c/eager/c_api.h',
      'xla/tsl/c/tsl_status.h',
    ]) {
      expect(existsSync(join(pkg, 'deps', 'include', h)), h).toBe(true)
    }
    expect(existsSync(join(pkg, 'deps', 'include', 'tensorflow', 'core', 'unrelated.h'))).toBe(
      false,
    )
    expect(existsSync(join(pkg, 'deps.inklab-staging'))).toBe(false)
  })

  it('says which file is not a ZIP and which library a wheel lacks', async () => {
    writeFileSync(join(tmp.dir, 'bad.whl'), 'not a zip')
    await expect(ZipReader.open(join(tmp.dir, 'bad.whl'))).rejects.toThrow(
      /bad\.whl is not a readable ZIP archive/,
    )
    writeZip(join(tmp.dir, 'empty.whl'), { 'tensorflow/__init__.py': '' })
    const pkg = fakePackage()
    mkdirSync(join(pkg, 'deps'))
    writeFileSync(join(pkg, 'deps', 'kept'), 'the old deps')
    await expect(stageDeps(join(tmp.dir, 'empty.whl'), pkg, () => undefined)).rejects.toThrow(
      /empty\.whl has no tensorflow\/libtensorflow_cc\.so\.2/,
    )
    // Nothing left half-unpacked, and the old deps/ untouched.
    expect(existsSync(join(pkg, 'deps.inklab-staging'))).toBe(false)
    expect(readFileSync(join(pkg, 'deps', 'kept'), 'utf8')).toBe('the old deps')
  })
})

describe('buildBinding', () => {
  function packageWithPreGyp(): string {
    const pkg = join(tmp.dir, 'node_modules', '@tensorflow', 'tfjs-node')
    mkdirSync(join(pkg, 'deps', 'lib'), { recursive: true })
    writeFileSync(join(pkg, 'deps', 'lib', 'libtensorflow_cc.so.2'), '')
    for (const link of ['libtensorflow.so', 'libtensorflow_framework.so']) {
      writeFileSync(join(pkg, 'deps', 'lib', link), '')
    }
    const preGyp = join(tmp.dir, 'node_modules', '@mapbox', 'node-pre-gyp', 'bin')
    mkdirSync(preGyp, { recursive: true })
    writeFileSync(join(preGyp, 'node-pre-gyp'), '')
    return pkg
  }

  it('runs node-pre-gyp from source with the local headers, then drops the link names', async () => {
    const pkg = packageWithPreGyp()
    const envs: NodeJS.ProcessEnv[] = []
    const host: ProvisionHost = {
      ...fakeHost().host,
      run: async (command, args, options) => {
        envs.push(options?.env ?? {})
        expect(command).toBe('/opt/node/bin/node')
        expect(args.slice(1)).toEqual(['install', '--build-from-source'])
        expect(options?.cwd).toBe(pkg)
        return { code: 0, output: '' }
      },
    }
    await buildBinding(pkg, '/usr', host, join(tmp.dir, 'build.log'))
    expect(envs[0].npm_config_nodedir).toBe('/usr')
    expect(existsSync(join(pkg, 'deps', 'lib', 'libtensorflow.so'))).toBe(false)
    expect(lstatSync(join(pkg, 'deps', 'lib', 'libtensorflow_cc.so.2')).isFile()).toBe(true)
  })

  it('reports the compiler’s error line and where the full log is', async () => {
    const pkg = packageWithPreGyp()
    const { host } = fakeHost(() => ({
      code: 1,
      output:
        'gyp info ok\n../binding/tfjs_backend.cc:20:10: fatal error: tensorflow/c/c_api.h: No such file\nmake: *** Error 1',
    }))
    await expect(buildBinding(pkg, '/usr', host, '/tmp/x.log')).rejects.toThrow(
      "building tfjs-node's binding failed: ../binding/tfjs_backend.cc:20:10: fatal error: tensorflow/c/c_api.h: No such file (full log: /tmp/x.log)",
    )
  })
})

describe('provisionNative', () => {
  it('does nothing more when native TensorFlow already loads and trains', async () => {
    const pkg = join(tmp.dir, 'node_modules', '@tensorflow', 'tfjs-node')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(join(pkg, 'package.json'), '{}')
    const { host, calls } = fakeHost(undefined, { platform: 'darwin', arch: 'arm64' })
    const outcome = await provisionNative({
      root: tmp.dir,
      log: () => undefined,
      verify: async () => ({ ok: true, detail: 'libtensorflow 2.9.1 CPU' }),
      host,
    })
    expect(outcome).toEqual({ status: 'already-working', detail: 'libtensorflow 2.9.1 CPU' })
    expect(calls).toEqual([])
  })

  it('stops at the first missing prerequisite, before downloading anything', async () => {
    const pkg = join(tmp.dir, 'node_modules', '@tensorflow', 'tfjs-node')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(join(pkg, 'package.json'), '{}')
    const { host, calls } = fakeHost((c) => (c === 'make' ? missing() : undefined), {
      execPath: join(nodePrefix(), 'bin', 'node'),
    })
    await expect(
      provisionNative({
        root: tmp.dir,
        cacheDir: join(tmp.dir, 'cache'),
        log: () => undefined,
        verify: async () => ({ ok: false, reason: 'no binding' }),
        host,
      }),
    ).rejects.toThrow(/make is missing/)
    expect(calls.some((c) => c.includes('pip download'))).toBe(false)
  })
})

describe('cacheDirectory', () => {
  it('is outside the project: INKLAB_CACHE_DIR, XDG_CACHE_HOME/inklab or ~/.cache/inklab', () => {
    expect(cacheDirectory({ INKLAB_CACHE_DIR: '/c' })).toBe('/c')
    expect(cacheDirectory({ XDG_CACHE_HOME: '/x' })).toBe('/x/inklab')
    expect(cacheDirectory({})).toMatch(/\.cache\/inklab$/)
  })
})

describe('readManifest', () => {
  it('reads what provisioning wrote and ignores anything else', () => {
    expect(readManifest(tmp.dir)).toBeUndefined()
    writeFileSync(join(tmp.dir, MANIFEST_FILE), '{ not json')
    expect(readManifest(tmp.dir)).toBeUndefined()
    const manifest = {
      source: 'pypi-wheel',
      project: 'tensorflow-cpu',
      version: '2.21.0',
      wheel: 'w.whl',
      sha256: 'ab',
      provisionedAt: '2026-12-02T00:00:00.000Z',
    }
    writeFileSync(join(tmp.dir, MANIFEST_FILE), JSON.stringify(manifest))
    expect(readManifest(tmp.dir)).toEqual(manifest)
  })
})
