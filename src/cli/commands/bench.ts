import { runBenchmark } from '@engine/index'
import { BackendNameSchema, type BackendName } from '@shared/schemas'

import { choiceOption, numberOption, parseCommandArgs } from '../args'
import type { Output } from '../output'

export const BENCH_HELP = `inklab bench [--backend native|wasm|cpu] [--seconds S] [--json]`

const OPTIONS = {
  backend: { type: 'string', multiple: true },
  seconds: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** `inklab bench`: training and inference throughput of each available backend. */
export async function benchCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('bench', argv, OPTIONS)
  const backends = values.backend?.map(
    (b) => choiceOption('backend', b, BackendNameSchema.options) as BackendName,
  )
  const seconds = numberOption('seconds', values.seconds, { min: 0.2, max: 600 })
  const result = await runBenchmark({
    backends,
    seconds,
    onLine: (line: string) => out.info(line),
  })
  out.emitJson(result)
  return 0
}
