import { appendFile, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { TrainConfigSchema } from '@shared/schemas/training'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { confusionCsv, historyCsv, lineChartSvg, toCsv } from '../../../src/main/services/report'
import {
  INTERRUPTED_MESSAGE,
  INTERRUPTED_NO_CHECKPOINT_MESSAGE,
  RunStore,
  type RunRecord,
} from '../../../src/main/services/runStore'
import { writeModelFolder } from './helpers/fakeEngine'
import { testMetadata } from '../helpers/modelFixtures'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inklab-runs-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function record(id: string, state: RunRecord['state']): RunRecord {
  return {
    id,
    name: id,
    state,
    datasetId: 'd',
    datasetName: 'D',
    preset: 'fast',
    createdAt: new Date().toISOString(),
    hasModel: false,
    builtin: false,
    config: TrainConfigSchema.parse({ epochs: 1, batchSize: 8, learningRate: 0.01 }),
    labels: ['a', 'b'],
  }
}

const epoch = (n: number) => ({
  kind: 'epoch' as const,
  epoch: n,
  epochs: 3,
  step: n + 1,
  loss: 1,
  accuracy: 0.5,
  learningRate: 0.01,
  samplesPerSecond: 1,
  etaSeconds: 0,
  elapsedSeconds: 1,
  improved: false,
})

describe('RunStore', () => {
  it('merges metrics into run.json in one queued, atomic step, keeping the rest', async () => {
    const store = new RunStore(dir, join(dir, 'resources'))
    await store.init()
    await store.save({
      ...record('r1', 'completed'),
      metrics: { epochs: 3, seconds: 9, valAccuracy: 0.5 },
    })
    // Issued together: neither update may undo the other.
    const [, second] = await Promise.all([
      store.updateMetrics('r1', { valAccuracy: 0.75, valLoss: 0.4 }),
      store.updateMetrics('r1', { testAccuracy: 0.9 }),
    ])
    expect(second.metrics).toEqual({
      epochs: 3,
      seconds: 9,
      valAccuracy: 0.75,
      valLoss: 0.4,
      testAccuracy: 0.9,
    })
    expect(await store.get('r1')).toMatchObject({ name: 'r1', metrics: second.metrics })
    expect((await readdir(join(dir, 'runs', 'r1'))).filter((f) => f.endsWith('.tmp'))).toEqual([])
    await expect(store.updateMetrics('missing', { testAccuracy: 1 })).rejects.toThrow(/no run/)
  })

  it('writes run.json atomically and reads history despite a torn last line', async () => {
    const store = new RunStore(dir, join(dir, 'resources'))
    await store.init()
    await store.save(record('r1', 'running'))
    await store.appendHistory('r1', epoch(0))
    await store.appendHistory('r1', epoch(1))
    await appendFile(join(dir, 'runs', 'r1', 'history.jsonl'), '{"kind":"epoch","epo')
    expect((await store.history('r1')).map((h) => h.epoch)).toEqual([0, 1])
    expect(await readdir(join(dir, 'runs', 'r1'))).toEqual(['history.jsonl', 'run.json'])
    const onDisk = JSON.parse(await readFile(join(dir, 'runs', 'r1', 'run.json'), 'utf8'))
    expect(onDisk).toMatchObject({ id: 'r1', state: 'running' })
  })

  it('fails unfinished runs on start-up, saying whether a checkpoint was kept', async () => {
    const store = new RunStore(dir, join(dir, 'resources'))
    await store.init()
    await store.save(record('a', 'paused'))
    await store.save(record('b', 'completed'))
    const again = new RunStore(dir, join(dir, 'resources'))
    await again.init()
    expect(await again.get('a')).toMatchObject({
      state: 'failed',
      message: INTERRUPTED_NO_CHECKPOINT_MESSAGE,
    })
    expect((await again.get('b')).state).toBe('completed')
  })

  it('puts back model folders a save killed between its renames left aside, on start-up', async () => {
    const store = new RunStore(dir, join(dir, 'resources'))
    await store.init()
    await store.save(record('r1', 'running'))
    const runDir = join(dir, 'runs', 'r1')
    const model = (name: string) =>
      writeModelFolder(
        join(runDir, name),
        testMetadata({
          name,
          labels: ['a', 'b'],
          dataset: { name: 'd', source: 's', trainSize: 1, testSize: 0 },
          preset: 'fast',
          metrics: { epochs: 1, seconds: 1, samplesPerSecond: 1 },
        }),
      )
    // The checkpoint was moved aside and the new one never finished writing.
    await model('checkpoint.old-x')
    await mkdir(join(runDir, 'checkpoint.tmp-y'))
    // The final model was written completely but not yet moved in.
    await model('model.old-w')
    await model('model')
    await rename(join(runDir, 'model'), join(runDir, 'model.tmp-z'))

    const again = new RunStore(dir, join(dir, 'resources'))
    await again.init()
    expect((await readdir(runDir)).sort()).toEqual(['checkpoint', 'model', 'run.json'])
    expect(await again.modelDir('r1')).toBe(join(runDir, 'model'))
    expect(JSON.parse(await readFile(join(runDir, 'model', 'metadata.json'), 'utf8')).name).toBe(
      'model',
    )
    expect(await again.get('r1')).toMatchObject({
      state: 'failed',
      message: INTERRUPTED_MESSAGE,
      hasModel: true,
    })
  })

  it('refuses ids that are not plain folder names', async () => {
    const store = new RunStore(dir, join(dir, 'resources'))
    for (const id of ['..', '../x', 'a/b', 'a\\b', '.hidden', '']) {
      expect(() => store.paths(id)).toThrow(/no run/)
    }
    // Ids are lower case: on a case-insensitive disk 'RUN-1' would name the folder of 'run-1'.
    for (const id of ['RUN-20260101-000000-abcdef', 'Run-1', 'run-A']) {
      expect(() => store.paths(id)).toThrow(/no run/)
    }
    expect(store.paths('run-20260101-000000-abcdef').dir).toBe(
      join(dir, 'runs', 'run-20260101-000000-abcdef'),
    )
  })
})

describe('report files', () => {
  it('writes CSV safely (quotes, formulas)', () => {
    expect(toCsv([['a,b', 'say "hi"', '=1+1', 2, undefined]])).toBe(
      '"a,b","say ""hi""",\'=1+1,2,\n',
    )
    expect(historyCsv([epoch(0)]).split('\n')[1]).toBe('1,1,1,0.5,,,0.01,1,1,no')
  })

  it('draws standalone SVG charts and escapes labels', () => {
    const svg = lineChartSvg({
      title: '<Loss>',
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        {
          name: 'a&b',
          color: '#000',
          points: [
            { x: 1, y: 2 },
            { x: 2, y: 1 },
          ],
        },
      ],
    })
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg).toContain('&lt;Loss&gt;')
    expect(svg).toContain('a&amp;b')
    expect(svg).not.toMatch(/<script|href=/)
  })

  it('writes the confusion matrix with labelled rows and columns', () => {
    const csv = confusionCsv({
      accuracy: 0.5,
      loss: 1,
      count: 2,
      labels: ['x', 'y'],
      confusion: [
        [1, 0],
        [1, 0],
      ],
      perClass: [],
      macroF1: 0,
      misclassified: [],
      predictions: [0, 0],
    })
    expect(csv).toBe('actual \\ predicted,x,y\nx,1,0\ny,1,0\n')
  })
})
