// Provisions native TensorFlow for tfjs-node where its own install could not download libtensorflow
// (no access to Google's storage, only to package registries): the C library comes from Google's
// official tensorflow-cpu wheel on PyPI, fetched with pip into a cache outside the project, and
// tfjs-node's unmodified binding is built against it with node-gyp.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

import { MANIFEST_FILE, PINNED_WHEEL, type NativeManifest } from './manifest'
import { ZipReader } from './zipReader'

/** npm package whose binding is built. */
const PACKAGE = '@tensorflow/tfjs-node'
/** The two shared libraries the binding links against, by the names the wheel gives them. */
const LIBRARIES = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'] as const
/** Link-time names the binding's gyp file asks for (`-ltensorflow -ltensorflow_framework`). */
const LINK_NAMES: Record<string, string> = {
  'libtensorflow.so': 'libtensorflow_cc.so.2',
  'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
}
const WHEEL_LIB_DIR = 'tensorflow/'
const WHEEL_INCLUDE_DIR = 'tensorflow/include/'
/** Prefix of pip's download folder in the wheel cache. */
const DOWNLOAD_PREFIX = 'download-'

/** A problem that stops provisioning, with a one-line message naming what to do. */
export class NativeSetupError extends Error {
  override readonly name = 'NativeSetupError'
}

/** Outcome of one command. */
export interface CommandResult {
  code: number
  output: string
}

/** What provisioning needs from the machine; tests pass a fake. */
export interface ProvisionHost {
  platform: NodeJS.Platform
  arch: string
  /** glibc version on Linux (process.report), undefined elsewhere or with musl. */
  glibc: string | undefined
  /** Node's executable, whose prefix usually holds its headers. */
  execPath: string
  /** System prefixes that may hold Node's headers too (`/usr`, `/usr/local`). */
  systemPrefixes: string[]
  env: NodeJS.ProcessEnv
  /** Whether a person watches the terminal (stderr is a TTY): pip then shows its progress bar. */
  interactive: boolean
  /**
   * Runs a command to completion. Output is captured (and appended to `logFile` when given), or,
   * with `passthrough`, goes to this process's terminal and is not captured.
   */
  run(command: string, args: string[], options?: RunOptions): Promise<CommandResult>
}

/** Options of `ProvisionHost.run`. */
export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  logFile?: string
  passthrough?: boolean
}

/** Result of loading native TensorFlow in a fresh process and training one convolution step. */
export type VerifyResult = { ok: true; detail: string } | { ok: false; reason: string }

/** Options of `provisionNative`. */
export interface ProvisionOptions {
  /** The project (or installed app) root: the folder holding package.json and node_modules. */
  root: string
  /** Rebuild even when native TensorFlow already loads. */
  force?: boolean
  /** Where the wheel is cached; default `cacheDirectory()`. */
  cacheDir?: string
  /** Progress lines. */
  log: (line: string) => void
  /** Loads tfjs-node in a new process and runs a training step (the CLI runs `inklab native verify`). */
  verify: () => Promise<VerifyResult>
  host?: ProvisionHost
}

/** What `provisionNative` did. */
export interface ProvisionOutcome {
  status: 'already-working' | 'provisioned'
  /** The verification's description of the backend (libtensorflow version, step). */
  detail: string
  manifest?: NativeManifest
}

/** InkLab's cache folder: $INKLAB_CACHE_DIR, else $XDG_CACHE_HOME/inklab, else ~/.cache/inklab. */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INKLAB_CACHE_DIR) return resolve(env.INKLAB_CACHE_DIR)
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'inklab')
  return join(homedir(), '.cache', 'inklab')
}

/** The real machine. */
export function systemHost(): ProvisionHost {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }
  return {
    platform: process.platform,
    arch: process.arch,
    glibc: report?.header?.glibcVersionRuntime,
    execPath: process.execPath,
    systemPrefixes: ['/usr', '/usr/local'],
    env: process.env,
    interactive: Boolean(process.stderr.isTTY),
    run: runCommand,
  }
}

function runCommand(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    let output = ''
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // pip's progress goes to stderr; its own output to stdout: both to the terminal.
      stdio: options.passthrough
        ? ['ignore', process.stderr, process.stderr]
        : ['ignore', 'pipe', 'pipe'],
    })
    const collect = (chunk: Buffer): void => {
      output += chunk.toString()
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    child.on('error', (error) => resolvePromise({ code: 127, output: error.message }))
    child.on('close', (code) => {
      const done = (): void => resolvePromise({ code: code ?? 1, output })
      if (options.logFile) {
        writeFile(options.logFile, `$ ${command} ${args.join(' ')}\n${output}\n`, {
          flag: 'a',
        }).then(done, done)
      } else done()
    })
  })
}

function lastLines(output: string, n: number): string {
  const lines = output
    .trim()
    .split('\n')
    .filter((l) => l.trim().length > 0)
  return lines.slice(-n).join(' | ')
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** Throws when this platform cannot use the pinned wheel's C library. */
export function checkPlatform(host: ProvisionHost): void {
  if (host.platform !== 'linux' || host.arch !== 'x64') {
    throw new NativeSetupError(
      `unsupported platform ${host.platform} ${host.arch}: provisioning from the PyPI wheel is implemented for Linux x64 only; ` +
        `elsewhere tfjs-node's own install (which needs access to storage.googleapis.com) provides native TensorFlow`,
    )
  }
  if (host.glibc === undefined) {
    throw new NativeSetupError(
      `this Linux has no glibc (musl?): the official TensorFlow wheel needs glibc ${PINNED_WHEEL.minGlibc} or newer`,
    )
  }
  if (compareVersions(host.glibc, PINNED_WHEEL.minGlibc) < 0) {
    throw new NativeSetupError(
      `glibc ${host.glibc} is too old: the official TensorFlow ${PINNED_WHEEL.version} wheel needs glibc ${PINNED_WHEEL.minGlibc} or newer`,
    )
  }
}

/** The tools the build needs: a Python with pip, a C++ compiler, make, and Node's headers. */
export interface Prerequisites {
  python: string
  /** Prefix whose `include/node` holds Node's headers (node-gyp's `nodedir`). */
  nodedir: string
}

/** Folders that may hold Node's headers as `include/node/node_api.h`, best first. */
export function nodedirCandidates(host: ProvisionHost): string[] {
  const candidates = [
    host.env.npm_config_nodedir,
    resolve(dirname(host.execPath), '..'),
    ...host.systemPrefixes,
  ]
  return [...new Set(candidates.filter((c): c is string => Boolean(c)))]
}

/** Finds each prerequisite or throws naming the first one missing and how to install it. */
export async function checkPrerequisites(host: ProvisionHost): Promise<Prerequisites> {
  let python: string | undefined
  let pythonFound = false
  for (const candidate of ['python3', 'python']) {
    const version = await host.run(candidate, ['--version'])
    if (version.code !== 0) continue
    pythonFound = true
    const pip = await host.run(candidate, ['-m', 'pip', '--version'])
    if (pip.code === 0) {
      python = candidate
      break
    }
  }
  if (!python) {
    throw new NativeSetupError(
      pythonFound
        ? 'pip is missing: it downloads the TensorFlow wheel from PyPI (Debian/Ubuntu: sudo apt install python3-pip)'
        : 'Python 3 with pip is missing: pip downloads the TensorFlow wheel and node-gyp needs Python (Debian/Ubuntu: sudo apt install python3 python3-pip)',
    )
  }
  const compiler = host.env.CXX ?? 'c++'
  if ((await host.run(compiler, ['--version'])).code !== 0) {
    throw new NativeSetupError(
      `no C++ compiler (${compiler}) to build tfjs-node's binding (Debian/Ubuntu: sudo apt install build-essential)`,
    )
  }
  if ((await host.run('make', ['--version'])).code !== 0) {
    throw new NativeSetupError(
      "make is missing: node-gyp needs it to build tfjs-node's binding (Debian/Ubuntu: sudo apt install build-essential)",
    )
  }
  const candidates = nodedirCandidates(host)
  const nodedir = candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')))
  if (!nodedir) {
    throw new NativeSetupError(
      `Node's C headers were not found (no include/node/node_api.h under ${candidates.join(', ')}): ` +
        'install them (Debian/Ubuntu: sudo apt install libnode-dev) or set npm_config_nodedir to a Node install prefix',
    )
  }
  return { python, nodedir }
}

/** tfjs-node's folder under `root`, put back with `npm install --ignore-scripts` when missing. */
export async function ensurePackage(
  root: string,
  host: ProvisionHost,
  log: (line: string) => void,
): Promise<string> {
  const dir = join(root, 'node_modules', ...PACKAGE.split('/'))
  if (existsSync(join(dir, 'package.json'))) return dir
  log(
    `${PACKAGE} is not installed (its own install step failed); installing it without its install script`,
  )
  // --ignore-scripts: tfjs-node's script would try Google's storage again and npm would remove
  // the package once more. npm install keeps package-lock.json as it is when it already matches.
  const result = await host.run(
    'npm',
    ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: root },
  )
  if (result.code !== 0 || !existsSync(join(dir, 'package.json'))) {
    throw new NativeSetupError(
      `npm could not install ${PACKAGE} (${lastLines(result.output, 2) || `exit ${result.code}`})`,
    )
  }
  return dir
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Which wheel `fetchWheel` gets: the pinned one (tests pass others). */
export type WheelSpec = {
  [K in 'project' | 'version' | 'file' | 'sha256' | 'pythonVersion' | 'platform']: string
}

/**
 * The pinned wheel in the cache, downloaded with pip when missing and checked against its pinned
 * SHA-256 either way. pip uses the machine's own index settings (a mirror, a proxy).
 */
export async function fetchWheel(
  cacheDir: string,
  python: string,
  host: ProvisionHost,
  log: (line: string) => void,
  wheel: WheelSpec = PINNED_WHEEL,
): Promise<string> {
  const wheelDir = join(cacheDir, 'wheels')
  const path = join(wheelDir, wheel.file)
  if (existsSync(path)) {
    if ((await sha256(path)) === wheel.sha256) {
      log(`using the cached ${wheel.file}`)
      return path
    }
    log(`the cached ${wheel.file} does not match its pinned checksum; downloading it again`)
    await rm(path, { force: true })
  }
  await mkdir(wheelDir, { recursive: true })
  // A download interrupted earlier leaves its folder behind: clear those first.
  for (const entry of readdirSync(wheelDir)) {
    if (entry.startsWith(DOWNLOAD_PREFIX))
      await rm(join(wheelDir, entry), { recursive: true, force: true })
  }
  const staging = join(wheelDir, `${DOWNLOAD_PREFIX}${process.pid}`)
  log(`downloading ${wheel.file} from PyPI with pip (once: it is kept in ${wheelDir})`)
  const spec = `${wheel.project}==${wheel.version}`
  // With a person at the terminal pip shows its own progress bar; otherwise its output is kept
  // for the error message.
  const result = await host.run(
    python,
    [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--disable-pip-version-check',
      '--no-input',
      '--python-version',
      wheel.pythonVersion,
      '--platform',
      wheel.platform,
      '--dest',
      staging,
      spec,
    ],
    { passthrough: host.interactive },
  )
  const downloaded = join(staging, wheel.file)
  if (result.code !== 0 || !existsSync(downloaded)) {
    await rm(staging, { recursive: true, force: true })
    const why = host.interactive ? "see pip's output above" : lastLines(result.output, 1)
    throw new NativeSetupError(
      `pip could not download ${spec} from PyPI: ${why || `exit ${result.code}`}`,
    )
  }
  const actual = await sha256(downloaded)
  if (actual !== wheel.sha256) {
    await rm(staging, { recursive: true, force: true })
    throw new NativeSetupError(
      `the downloaded ${wheel.file} has SHA-256 ${actual}, not the pinned ${wheel.sha256}: refusing it`,
    )
  }
  await rename(downloaded, path)
  await rm(staging, { recursive: true, force: true })
  return path
}

const INCLUDE_PATTERN = /^\s*#\s*include\s*"([^"]+)"/gm

/** The quoted includes of a C/C++ source that name a path (`a/b.h`, not local `b.h`). */
export function quotedIncludes(source: string): string[] {
  return [...source.matchAll(INCLUDE_PATTERN)].map((m) => m[1]).filter((p) => p.includes('/'))
}

/**
 * The headers the binding needs from the wheel: the includes of tfjs-node's own sources, followed
 * through the wheel's include tree. Returns paths relative to the include root.
 */
export async function headerClosure(wheel: ZipReader, bindingSources: string[]): Promise<string[]> {
  const todo = bindingSources.flatMap(quotedIncludes)
  const found = new Set<string>()
  while (todo.length > 0) {
    const header = todo.pop() as string
    if (found.has(header)) continue
    const entry = wheel.find(WHEEL_INCLUDE_DIR + header)
    if (!entry) continue
    found.add(header)
    todo.push(...quotedIncludes((await wheel.read(entry)).toString('utf8')))
  }
  return [...found].sort()
}

/** Unpacks the two libraries and the headers the binding includes from the wheel into `staging`. */
async function unpackInto(
  wheelPath: string,
  packageDir: string,
  staging: string,
  log: (line: string) => void,
): Promise<void> {
  const wheel = await ZipReader.open(wheelPath)
  try {
    for (const library of LIBRARIES) {
      const entry = wheel.find(WHEEL_LIB_DIR + library)
      if (!entry) throw new NativeSetupError(`${wheelPath} has no ${WHEEL_LIB_DIR}${library}`)
      log(`unpacking ${library} (${Math.round(entry.size / 1e6)} MB)`)
      await wheel.extract(entry, join(staging, 'lib', library))
    }
    const bindingDir = join(packageDir, 'binding')
    const sources = readdirSync(bindingDir)
      .filter((f) => /\.(cc|h)$/.test(f))
      .map((f) => readFileSync(join(bindingDir, f), 'utf8'))
    const headers = await headerClosure(wheel, sources)
    if (!headers.includes('tensorflow/c/c_api.h')) {
      throw new NativeSetupError(`${wheelPath} lacks the TensorFlow C API headers`)
    }
    for (const header of headers) {
      const target = join(staging, 'include', header)
      await mkdir(dirname(target), { recursive: true })
      await wheel.extract(wheel.find(WHEEL_INCLUDE_DIR + header)!, target)
    }
  } finally {
    await wheel.close()
  }
}

/**
 * Replaces tfjs-node's `deps/` with the wheel's two shared libraries, the headers the binding
 * includes and the link-time names, built next to it and swapped in whole. On failure (a bad
 * wheel, a full disk) nothing is left behind and the old `deps/` stays.
 */
export async function stageDeps(
  wheelPath: string,
  packageDir: string,
  log: (line: string) => void,
): Promise<void> {
  const deps = join(packageDir, 'deps')
  const staging = join(packageDir, 'deps.inklab-staging')
  await rm(staging, { recursive: true, force: true })
  await mkdir(join(staging, 'lib'), { recursive: true })
  try {
    await unpackInto(wheelPath, packageDir, staging, log)
    for (const [link, target] of Object.entries(LINK_NAMES)) {
      await symlink(target, join(staging, 'lib', link))
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw error
  }
  const old = join(packageDir, 'deps.inklab-old')
  await rm(old, { recursive: true, force: true })
  if (existsSync(deps)) await rename(deps, old)
  await rename(staging, deps)
  await rm(old, { recursive: true, force: true })
}

/**
 * Builds tfjs-node's binding from source against `deps/` with node-pre-gyp and node-gyp, using
 * the local Node headers (node-gyp would otherwise try to download them). The link-time symlinks
 * are removed afterwards: the binding loads the libraries by their sonames, and packaging tools
 * copy real files only.
 */
export async function buildBinding(
  packageDir: string,
  nodedir: string,
  host: ProvisionHost,
  logFile: string,
): Promise<void> {
  await rm(join(packageDir, 'build'), { recursive: true, force: true })
  await rm(join(packageDir, 'lib'), { recursive: true, force: true })
  const preGyp = findNodePreGyp(packageDir)
  const result = await host.run(host.execPath, [preGyp, 'install', '--build-from-source'], {
    cwd: packageDir,
    env: { ...host.env, npm_config_nodedir: nodedir },
    logFile,
  })
  for (const link of Object.keys(LINK_NAMES)) {
    await unlink(join(packageDir, 'deps', 'lib', link)).catch(() => undefined)
  }
  // Object files are only needed to rebuild; the binding is copied to lib/.
  await rm(join(packageDir, 'build'), { recursive: true, force: true })
  if (result.code !== 0) {
    const errorLine =
      result.output
        .split('\n')
        .find((l) => /error:|fatal error|not found/i.test(l))
        ?.trim() ?? lastLines(result.output, 1)
    throw new NativeSetupError(
      `building tfjs-node's binding failed: ${errorLine} (full log: ${logFile})`,
    )
  }
}

function findNodePreGyp(packageDir: string): string {
  const candidates = [
    join(packageDir, 'node_modules', '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp'),
    join(packageDir, '..', '..', '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp'),
  ]
  const found = candidates.find((c) => existsSync(c))
  if (!found) {
    throw new NativeSetupError(
      `@mapbox/node-pre-gyp (a dependency of ${PACKAGE}) is missing; run npm install --ignore-scripts`,
    )
  }
  return found
}

/**
 * Makes native TensorFlow work in the project at `root`: puts tfjs-node back when npm removed it,
 * and, unless native already loads and trains (or `force`), provisions libtensorflow from the
 * pinned official PyPI wheel and builds the binding, then proves it in a new process. Idempotent;
 * every failure is a `NativeSetupError` with one line naming what to install or do.
 */
export async function provisionNative(options: ProvisionOptions): Promise<ProvisionOutcome> {
  const host = options.host ?? systemHost()
  const log = options.log
  const packageDir = await ensurePackage(options.root, host, log)
  if (!options.force) {
    const current = await options.verify()
    if (current.ok) return { status: 'already-working', detail: current.detail }
    log(`native TensorFlow does not load yet (${current.reason})`)
  }
  checkPlatform(host)
  const prerequisites = await checkPrerequisites(host)
  const cacheDir = options.cacheDir ?? cacheDirectory(host.env)
  mkdirSync(cacheDir, { recursive: true })
  const wheel = await fetchWheel(cacheDir, prerequisites.python, host, log)
  await stageDeps(wheel, packageDir, log)
  const logFile = join(cacheDir, 'native-build.log')
  await rm(logFile, { force: true })
  log(
    `building tfjs-node's binding against it (Node headers from ${prerequisites.nodedir}; log: ${logFile})`,
  )
  await buildBinding(packageDir, prerequisites.nodedir, host, logFile)
  const manifest: NativeManifest = {
    source: 'pypi-wheel',
    project: PINNED_WHEEL.project,
    version: PINNED_WHEEL.version,
    wheel: PINNED_WHEEL.file,
    sha256: PINNED_WHEEL.sha256,
    provisionedAt: new Date().toISOString(),
  }
  await writeFile(join(packageDir, 'deps', MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`)
  log('checking it: loading native TensorFlow and training one convolution step in a new process')
  const check = await options.verify()
  if (!check.ok) {
    throw new NativeSetupError(
      `the binding was built but native TensorFlow does not work: ${check.reason}`,
    )
  }
  return { status: 'provisioned', detail: check.detail, manifest }
}
