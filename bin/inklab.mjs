#!/usr/bin/env node
// The `inklab` command: runs the built CLI (npm install builds it through the `prepare` script).
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'out', 'main', 'cli.js')
if (!existsSync(cli)) {
  console.error(
    `inklab: error: the CLI is not built (${cli} is missing); run "npm install" in ${root}`,
  )
  process.exit(1)
}
const { main } = createRequire(import.meta.url)(cli)
const code = await main(process.argv.slice(2))
// Writes to a pipe are asynchronous: wait until what is queued has gone out, or a long --json
// line would be cut short by the exit.
const flush = (stream) => new Promise((resolve) => stream.write('', resolve))
await Promise.all([flush(process.stdout), flush(process.stderr)])
// tfjs and sharp can keep handles open after the command is done.
process.exit(code)
