import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'

import { useModelsStore } from '@renderer/stores/models'
import ModelsView from '@renderer/views/ModelsView.vue'
import { letChartsLayOut, xTicks } from '../helpers/chartCanvas'
import { makeEpoch, makeRun, makeRunDetail } from '../helpers/fixtures'
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

  it('keeps long names on one line with the full name as tooltip', async () => {
    const long = 'A run with a rather long name that would wrap'
    const { pinia } = setupFake({
      'runs.list': () => [makeRun({ name: long, datasetName: 'inklab-e2e-shapes-VcTn74' })],
    })
    await useModelsStore().refresh()
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await settle()
    const row = wrapper.get('[data-testid="runs-table"] tbody tr')
    const name = row.get('button.link-btn')
    expect(name.attributes('title')).toBe(long)
    expect(name.classes()).toContain('truncate')
    const dataset = row.get('.dataset-cell span')
    expect(dataset.attributes('title')).toBe('inklab-e2e-shapes-VcTn74')
    expect(dataset.classes()).toContain('truncate')
    const cells = row.findAll('td')
    // Preset, state, accuracy and date never wrap.
    expect(cells.slice(2, 6).every((c) => c.classes().includes('nowrap'))).toBe(true)
  })

  it('compares runs on the accuracy chart instead of a card of its own', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [
        makeRun({ id: 'run-1', name: 'First' }),
        makeRun({ id: 'run-2', name: 'Second' }),
      ],
      'runs.get': ({ runId }) =>
        makeRunDetail({ id: runId, name: runId === 'run-1' ? 'First' : 'Second' }),
    })
    await useModelsStore().refresh()
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await settle()
    await wrapper.get('button[aria-pressed="false"]').trigger('click')
    await settle()
    expect(wrapper.findAll('h2').map((h) => h.text())).not.toContain('Compare')
    const chart = () =>
      wrapper.get('[data-testid="accuracy-history-chart"] canvas').attributes('aria-label')!
    expect(chart()).not.toContain('Second')
    const select = wrapper.get('[data-testid="compare-select"]')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['Compare with…', 'Second'])
    await select.setValue('run-2')
    await settle()
    expect(chart()).toMatch(/with the validation accuracy of Second\./)
    expect(chart()).toMatch(/Second \(validation\): 78\.0%/)
  })

  it('labels the epoch axes of a short run with whole epochs (no 1.5)', async () => {
    letChartsLayOut()
    try {
      const { pinia } = setupFake({
        'runs.list': () => [makeRun({ id: 'run-1', name: 'First' })],
        'runs.get': () => makeRunDetail({ history: [makeEpoch(0), makeEpoch(1)] }),
      })
      await useModelsStore().refresh()
      const wrapper = mount(ModelsView, { global: { plugins: [pinia] }, attachTo: document.body })
      await settle()
      await wrapper.get('button[aria-pressed="false"]').trigger('click')
      await settle()
      for (const chart of ['run-history-chart', 'accuracy-history-chart']) {
        const ticks = xTicks(wrapper.get(`[data-testid="${chart}"] canvas`).element)
        expect(ticks, chart).toEqual([1, 2])
      }
      wrapper.unmount()
    } finally {
      vi.restoreAllMocks()
    }
  })

  it('exports the ticked formats: all three by default, none disables Export', async () => {
    const { fake, pinia } = setupFake({
      'runs.list': () => [makeRun({ id: 'run-1', name: 'First' })],
      'runs.get': ({ runId }) => makeRunDetail({ id: runId, name: 'First' }),
      'runs.export': ({ destination }) => ({
        path: `${destination}/inklab-first-run-1`,
        files: ['model.h5', 'model.onnx', 'model/model.json', 'report/report.html'],
      }),
    })
    await useModelsStore().refresh()
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await settle()
    await wrapper.get('button[aria-pressed="false"]').trigger('click')
    await settle()
    const formats = wrapper.get('[data-testid="export-formats"]')
    expect(formats.findAll('label').map((l) => l.get('strong').text())).toEqual([
      'TF.js',
      'Keras (.h5)',
      'ONNX',
    ])
    const card = wrapper.get('.export-card')
    await card.get('input.mono').setValue('/tmp/out')
    await card.get('form').trigger('submit')
    await settle()
    expect(fake.callsTo('runs.export')).toEqual([
      { runId: 'run-1', destination: '/tmp/out', formats: ['tfjs', 'keras', 'onnx'] },
    ])
    expect(wrapper.get('[data-testid="export-files"]').text()).toContain('model.onnx')

    await wrapper.get('[data-testid="export-format-tfjs"]').setValue(false)
    await card.get('form').trigger('submit')
    await settle()
    expect(fake.callsTo('runs.export')[1]!.formats).toEqual(['keras', 'onnx'])

    await wrapper.get('[data-testid="export-format-keras"]').setValue(false)
    await wrapper.get('[data-testid="export-format-onnx"]').setValue(false)
    expect(card.get('button[type="submit"]').attributes('disabled')).toBeDefined()
  })

  it('compares the runs in a table of their own once there are two', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun({ id: 'run-1', name: 'First', metrics: { valAccuracy: 0.9 } })],
    })
    const models = useModelsStore()
    await models.refresh()
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await settle()
    expect(wrapper.find('[data-testid="comparison-table"]').exists()).toBe(false)

    models.runs = [makeRun({ id: 'run-2', name: 'Second' }), ...models.runs]
    await settle()
    const table = wrapper.get('[data-testid="comparison-table"]')
    expect(table.findAll('tbody tr').map((r) => r.attributes('data-run-id'))).toEqual([
      'run-2',
      'run-1',
    ])
    // The runs table and the comparison name the split of each accuracy by the same rule.
    expect(table.findAll('[data-testid="comparison-accuracy"]').map((c) => c.text())).toEqual([
      '99.10% test',
      '90.00% val',
    ])
    expect(wrapper.findAll('[data-testid="run-accuracy"]').map((c) => c.text())).toEqual([
      '99.10%',
      '90.00% val',
    ])
  })
})
