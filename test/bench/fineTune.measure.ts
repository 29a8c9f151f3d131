// How a fine-tune on a few corrections changes a drawn run's accuracy, over several seeds: the
// collection bench's story (scripts/collect-bench.mjs) without a browser, through the engine's own
// fine-tune path (test/node/helpers/fineTuneScenario.ts). Prints one line per seed and the mean
// change per set; asserts nothing (the guarantee lives in test/node/engine/train/fineTune.test.ts).
//
//   FINE_TUNE_SEEDS=1-5 [FINE_TUNE_LEARNING_RATE=R] [FINE_TUNE_EPOCHS=N] [FINE_TUNE_COPIES=K] \
//     [FINE_TUNE_SCHEDULE=constant|cosine|step|onecycle] [FINE_TUNE_AUGMENT=0] \
//     [FINE_TUNE_BLEND=ALPHA] [FINE_TUNE_CORRECTIONS_AS_DRAWN=0] \
//     [INKLAB_TEST_BACKEND=native|wasm] nice -n 10 npx vitest run --project bench
//
// Writes the figures to test-results/fine-tune-bench.json as well.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, it } from 'vitest'

import { DEFAULT_AUGMENTATION, LrScheduleSchema } from '@shared/schemas/training'

import { useTestBackend } from '../node/helpers/backend'
import { correctionScenario, type ScenarioResult } from '../node/helpers/fineTuneScenario'
import { makeTmpDir } from '../node/helpers/tmpDir'

/** `1-5` or `1,4,9`: the seeds to measure. */
function seeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text)
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])]
    return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
  }
  return text.split(',').map(Number)
}

/** The augmentation switched off (the parent's, in the bench: `classic` has none). */
const NO_AUGMENTATION = { ...DEFAULT_AUGMENTATION, enabled: false }

const optionalNumber = (name: string): number | undefined => {
  const text = process.env[name]
  return text ? Number(text) : undefined
}

let dir: string
let cleanup: () => Promise<void>
beforeAll(async () => {
  await useTestBackend()
  ;({ dir, cleanup } = await makeTmpDir('inklab-fine-tune-bench-'))
})
afterAll(() => cleanup())

it('measures a fine-tune on corrections over seeds', { timeout: 0 }, async () => {
  const learningRate = optionalNumber('FINE_TUNE_LEARNING_RATE')
  const epochs = optionalNumber('FINE_TUNE_EPOCHS')
  const copies = optionalNumber('FINE_TUNE_COPIES')
  const schedule = LrScheduleSchema.optional().parse(process.env.FINE_TUNE_SCHEDULE || undefined)
  const results: ScenarioResult[] = []
  const percent = (x: number) => (100 * x).toFixed(0).padStart(3)
  for (const seed of seeds(process.env.FINE_TUNE_SEEDS ?? '1-3')) {
    const r = await correctionScenario({
      dir,
      seed,
      ...(copies !== undefined ? { copies } : {}),
      ...(process.env.FINE_TUNE_CORRECTIONS_AS_DRAWN === '0'
        ? { correctionsSince: false as const }
        : {}),
      ...(optionalNumber('FINE_TUNE_BLEND') !== undefined
        ? { blend: optionalNumber('FINE_TUNE_BLEND') }
        : {}),
      tuneConfig: {
        ...(schedule ? { lrSchedule: schedule } : {}),
        ...(process.env.FINE_TUNE_AUGMENT === '0' ? { augmentation: NO_AUGMENTATION } : {}),
      },
      fineTune: {
        ...(learningRate !== undefined ? { learningRate } : {}),
        ...(epochs !== undefined ? { epochs } : {}),
      },
    })
    results.push(r)
    console.log(
      `seed ${String(seed).padStart(3)}: ${String(r.corrected).padStart(3)} of ${r.pool} corrected; ` +
        `first hand ${percent(r.before.firstHand)} -> ${percent(r.after.firstHand)}, ` +
        `second hand ${percent(r.before.secondHand)} -> ${percent(r.after.secondHand)}, ` +
        `corrected ${percent(r.before.corrected)} -> ${percent(r.after.corrected)}; ` +
        `others broken ${r.changed.broken}, fixed ${r.changed.fixed} ` +
        `(${r.fineTune.epochs} epochs, ${r.fineTune.steps} steps at ${r.fineTune.learningRate}, ` +
        `${r.fineTune.seconds.toFixed(1)} s)`,
    )
  }
  const mean = (pick: (r: ScenarioResult) => number) =>
    results.reduce((sum, r) => sum + pick(r), 0) / results.length
  const summary = Object.fromEntries(
    (['firstHand', 'secondHand', 'corrected'] as const).map((set) => [
      set,
      {
        before: mean((r) => r.before[set]),
        after: mean((r) => r.after[set]),
        worse: results.filter((r) => r.after[set] < r.before[set]).length,
      },
    ]),
  )
  const broken = results.reduce((sum, r) => sum + r.changed.broken, 0)
  const fixed = results.reduce((sum, r) => sum + r.changed.fixed, 0)
  console.log(
    `mean over ${results.length} seeds: ${JSON.stringify(summary)}; ` +
      `held-out drawings broken ${broken}, fixed ${fixed} in all`,
  )
  const out = join(__dirname, '../../test-results')
  mkdirSync(out, { recursive: true })
  writeFileSync(
    join(out, 'fine-tune-bench.json'),
    `${JSON.stringify({ date: new Date().toISOString(), results, summary }, null, 2)}\n`,
  )
})
