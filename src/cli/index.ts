import { probeBackends } from '@engine/index'

import { benchCommand, BENCH_HELP } from './commands/bench'
import { evalCommand, EVAL_HELP } from './commands/eval'
import { exportCommand, EXPORT_HELP } from './commands/export'
import { nativeCommand, NATIVE_HELP } from './commands/native'
import { predictCommand, PREDICT_HELP } from './commands/predict'
import { realInkCommand, REAL_INK_HELP } from './commands/realInk'
import { serveCommand, SERVE_HELP } from './commands/serve'
import { trainCommand, TRAIN_HELP } from './commands/train'
import { trainBundledCommand, TRAIN_BUNDLED_HELP } from './commands/trainBundled'
import { describeError, EXIT, UsageError } from './errors'
import { createOutput, type Output } from './output'
import { VERSION } from './version'

const HELP = `InkLab ${VERSION}: train and use handwriting classifiers, offline.

Usage:
  ${TRAIN_HELP}
  ${EVAL_HELP}
  ${PREDICT_HELP}
  ${EXPORT_HELP}
  ${BENCH_HELP}
  ${REAL_INK_HELP}
  ${TRAIN_BUNDLED_HELP}
  ${SERVE_HELP}
  ${NATIVE_HELP}
  inklab backends        which compute backends load here, and why not
  inklab --version | --help

With --json, the last line of stdout is one JSON object.`

type Command = (argv: string[], out: Output) => Promise<number>

const COMMANDS: Record<string, Command> = {
  train: trainCommand,
  eval: evalCommand,
  predict: predictCommand,
  export: exportCommand,
  bench: benchCommand,
  realink: realInkCommand,
  'train-bundled': trainBundledCommand,
  serve: serveCommand,
  native: nativeCommand,
  backends: async (_argv, out) => {
    const probes = await probeBackends()
    for (const p of probes) {
      out.result(
        `${p.name.padEnd(7)} ${p.available ? `available${p.detail ? `: ${p.detail}` : ''}` : `unavailable: ${p.reason ?? ''}`}`,
      )
    }
    out.emitJson({ backends: probes })
    return 0
  },
}

/** Runs the CLI and returns its exit code; errors become one line, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`)
    return name ? EXIT.ok : EXIT.usage
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`)
    return EXIT.ok
  }
  const out = createOutput(rest.includes('--json'))
  const command = COMMANDS[name]
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`)
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${HELP}\n`)
      return EXIT.ok
    }
    return await command(rest, out)
  } catch (error) {
    out.endProgress()
    process.stderr.write(`inklab: error: ${describeError(error)}\n`)
    if (error instanceof UsageError) {
      process.stderr.write('run "inklab --help" for usage\n')
      return EXIT.usage
    }
    if (process.env.INKLAB_DEBUG && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`)
    }
    return EXIT.failure
  }
}
