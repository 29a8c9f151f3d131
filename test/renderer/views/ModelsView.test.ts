import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { useModelsStore } from '@renderer/stores/models'
import ModelsView from '@renderer/views/ModelsView.vue'
import { makeRun } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

describe('ModelsView', () => {
  it('badges the run the services report as active "in use", and only that one', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [
        makeRun({ id: 'run-2', name: 'Second', active: true }),
        makeRun({ id: 'run-1', name: 'First' }),
        makeRun({ id: 'builtin-mnist', name: 'MNIST fast', builtin: true }),
      ],
    })
    await useModelsStore().refresh()
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await settle()
    const rows = wrapper.get('[data-testid="runs-table"]').findAll('tbody tr')
    const inUse = rows.filter((row) =>
      row.findAll('.badge').some((badge) => badge.text() === 'in use'),
    )
    expect(inUse).toHaveLength(1)
    expect(inUse[0]!.text()).toContain('Second')
  })

  it('shows the test accuracy, else the validation accuracy marked as such, else a dash', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [
        makeRun({ id: 'tested', metrics: { testAccuracy: 0.9912, valAccuracy: 0.5 } }),
        makeRun({ id: 'folder', metrics: { valAccuracy: 0.9583, valLoss: 0.1 } }),
        makeRun({ id: 'stopped', metrics: { epochs: 0 } }),
      ],
    })
    await useModelsStore().refresh()
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await settle()
    const cells = wrapper.findAll('[data-testid="run-accuracy"]')
    expect(cells.map((c) => c.text())).toEqual(['99.12%', '95.83% val', '—'])
    expect(cells[0]!.attributes('title')).toBeUndefined()
    expect(cells[1]!.attributes('title')).toMatch(/Validation accuracy/)
  })
})
