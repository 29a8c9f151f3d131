import { runBenchmark } from '@engine/index'
import { BackendNameSchema, type BackendName } from '@shared/schemas'

import { choiceOption, numberOption, parseCommandArgs } from '../args'
import type { Output } from '../output'

export const BENCH_HELP = `inklab bench [--backend native|wasm|cpu] [--seconds S] [--skip-accuracy] [--json]`

const OPTIONS = {
  backend: { type: 'string', multiple: true },
  seconds: { type: 'string' },
  'skip-accuracy': { type: 'boolean' },
  json: { type: 'boolean' },
} as const

/**
 * `inklab bench`: per available backend, training throughput of the classic and fast networks,
 * inference throughput and batch-1 latency, and the fast preset's time to 99% on MNIST.
 */
export async function benchCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('bench', argv, OPTIONS)
  const backends = values.backend?.map(
    (b) => choiceOption('backend', b, BackendNameSchema.options) as BackendName,
  )
  const seconds = numberOption('seconds', values.seconds, { min: 0.2, max: 600 })
  const result = await runBenchmark({
    backends,
    seconds,
    ...(values['skip-accuracy'] ? { accuracy: false as const } : {}),
    onLine: (line: string) => out.info(line),
  })
  out.emitJson(result)
  return 0
}
