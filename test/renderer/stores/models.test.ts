import { describe, expect, it } from 'vitest'

import { useAppStore } from '@renderer/stores/app'
import { useModelsStore } from '@renderer/stores/models'
import { makeRun } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

describe('useModelsStore', () => {
  it('takes the active run from the services, and moves it on activation', async () => {
    const { fake } = setupFake({
      'runs.list': () => [
        makeRun({ id: 'run-1', name: 'Mine' }),
        makeRun({ id: 'builtin-mnist', name: 'MNIST fast', builtin: true, active: true }),
      ],
      'models.activate': ({ runId }) => makeRun({ id: runId, name: 'Mine', active: true }),
    })
    const models = useModelsStore()
    await models.refresh()
    expect(models.activeRunId).toBe('builtin-mnist')
    expect(models.activeRun?.name).toBe('MNIST fast')

    expect(await models.activate('run-1')).toBe(true)
    expect(fake.callsTo('models.activate')).toEqual([{ runId: 'run-1' }])
    expect(models.activeRunId).toBe('run-1')
    expect(models.runs.filter((r) => r.active).map((r) => r.id)).toEqual(['run-1'])
  })

  it('says how many files an export wrote, singular or plural', async () => {
    const { fake } = setupFake({
      'runs.export': () => ({ path: '/out/inklab-run', files: ['model/model.json'] }),
    })
    const models = useModelsStore()
    const app = useAppStore()
    await models.exportRun('run-1', '/out')
    expect(app.toasts.map((t) => t.message)).toEqual(['Exported 1 file to /out/inklab-run'])
    fake.handle('runs.export', () => ({
      path: '/out/inklab-run-2',
      files: Array.from({ length: 1_200 }, (_, i) => `f${i}`),
    }))
    await models.exportRun('run-1', '/out')
    expect(app.toasts.at(-1)!.message).toBe('Exported 1,200 files to /out/inklab-run-2')
  })

  it('knows no active run when the services report none', async () => {
    setupFake({ 'runs.list': () => [makeRun({ id: 'run-1' })] })
    const models = useModelsStore()
    await models.refresh()
    expect(models.activeRunId).toBeNull()
    expect(models.activeRun).toBeNull()
  })

  it('lists the runs again after deleting the active one (the services pick the fallback)', async () => {
    let deleted = false
    const { fake } = setupFake({
      'runs.list': () =>
        deleted
          ? [makeRun({ id: 'builtin-mnist', builtin: true, active: true })]
          : [
              makeRun({ id: 'run-1', active: true }),
              makeRun({ id: 'builtin-mnist', builtin: true }),
            ],
      'runs.delete': () => {
        deleted = true
        return { ok: true }
      },
    })
    const models = useModelsStore()
    await models.refresh()
    expect(models.activeRunId).toBe('run-1')
    await models.remove('run-1')
    await settle()
    expect(fake.callsTo('runs.list')).toHaveLength(2)
    expect(models.activeRunId).toBe('builtin-mnist')
  })

  it('lists the runs again when the event stream reconnects', async () => {
    const { fake } = setupFake({ 'runs.list': () => [makeRun()] })
    const models = useModelsStore()
    await models.refresh()
    expect(fake.callsTo('runs.list')).toHaveLength(1)
    fake.reconnect()
    await settle()
    expect(fake.callsTo('runs.list')).toHaveLength(2)
  })

  it('exports the chosen formats and refuses an export with none', async () => {
    const { fake } = setupFake({
      'runs.list': () => [makeRun({ id: 'run-1' })],
      'runs.export': () => ({ path: '/out/inklab-run-1', files: ['model.h5'] }),
    })
    const models = useModelsStore()
    expect(models.exportFormats).toEqual(['tfjs', 'keras', 'onnx'])
    expect(await models.exportRun('run-1', ' /out ', ['keras'])).toEqual({
      runId: 'run-1',
      path: '/out/inklab-run-1',
      files: ['model.h5'],
    })
    expect(fake.callsTo('runs.export')).toEqual([
      { runId: 'run-1', destination: '/out', formats: ['keras'] },
    ])
    expect(await models.exportRun('run-1', '/out', [])).toBeNull()
    expect(fake.callsTo('runs.export')).toHaveLength(1)
    expect(useAppStore().toasts.at(-1)?.message).toBe('Choose at least one format to export')
  })
})
