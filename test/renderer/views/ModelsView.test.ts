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
})
