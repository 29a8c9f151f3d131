// Child process of the edits-log tests: appends drawings to the log at argv[2], one after the
// other, printing each key once its append has resolved (so it is acknowledged as saved), for
// argv[3] drawings or until it is killed.
import { addDrawing } from '../../../../src/engine/data/datasetEdits'

async function main(): Promise<void> {
  const [log, limit] = process.argv.slice(2)
  if (!log) throw new Error('usage: appendDrawings LOG [COUNT]')
  const count = limit ? Number(limit) : Infinity
  const ink = {
    padSize: 280,
    strokes: [{ width: 18, points: Array.from({ length: 400 }, (_, i) => [i % 280, i / 2, 1]) }],
  }
  for (let i = 0; i < count; i++) {
    const key = await addDrawing(log, {
      label: String.fromCharCode(97 + (i % 26)),
      pixels: new Uint8Array(784).fill(i % 256),
      ink: ink as never,
    })
    process.stdout.write(`${key}\n`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
