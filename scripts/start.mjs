#!/usr/bin/env node
// `npm start`: the desktop app where Electron and a display are available; otherwise serve mode
// (the same UI in a browser on 127.0.0.1), after saying why.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')
const require = createRequire(import.meta.url)

function electronBinary() {
  try {
    const path = require('electron') // the package exports the binary's path
    return typeof path === 'string' && existsSync(path)
      ? { path }
      : { reason: `its binary ${path} is missing` }
  } catch {
    return {
      reason:
        'the optional "electron" package is not installed (its install step downloads the Electron ' +
        'binary, which needs internet access)',
    }
  }
}

function hasDisplay() {
  if (process.platform === 'win32' || process.platform === 'darwin') return true
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY)
}

const args = process.argv.slice(2)
const electron = electronBinary()
const forceServe = args.includes('--serve')
if (!forceServe && electron.path && hasDisplay()) {
  const child = spawn(electron.path, [root, ...args], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  const why = forceServe
    ? 'serve mode was requested'
    : electron.path
      ? 'there is no display (DISPLAY/WAYLAND_DISPLAY unset)'
      : `Electron is unavailable: ${electron.reason}`
  console.error(`InkLab: the desktop window cannot open here (${why}).`)
  console.error('Starting serve mode instead: the same app in your browser, on 127.0.0.1 only.')
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'inklab.mjs'), 'serve', ...args.filter((a) => a !== '--serve')],
    {
      stdio: 'inherit',
    },
  )
  child.on('exit', (code) => process.exit(code ?? 0))
}
