import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { useModelsStore } from '@renderer/stores/models'
import EvaluateView from '@renderer/views/EvaluateView.vue'
import { makeReport, makeRun, makeSample } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

describe('EvaluateView', () => {
  it('renders the confusion matrix and opens a cell', async () => {
    const { fake, pinia } = setupFake({
      'runs.list': () => [
        makeRun({ id: 'run-new', name: 'Newest' }),
        makeRun({ id: 'builtin', name: 'Pretrained', builtin: true }),
      ],
      'evaluation.run': () => makeReport(),
      'evaluation.samples': ({ indices }) =>
        indices.map((i) => makeSample(i, [0, 0, 0, 1, 1, 1, 2, 2, 2, 2][i]!)),
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await settle()

    // The latest completed run is picked by default.
    expect((wrapper.get('[data-testid="run-select"]').element as HTMLSelectElement).value).toBe(
      'run-new',
    )
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    expect(fake.callsTo('evaluation.run')).toEqual([{ runId: 'run-new' }])
    expect(wrapper.get('[data-testid="test-accuracy"]').text()).toBe('70.00%')

    const matrix = wrapper.get('[data-testid="confusion-matrix"]')
    const counts = matrix.findAll('tbody button').map((b) => b.text())
    expect(counts).toEqual(['2', '1', '0', '0', '2', '1', '1', '0', '3'])

    // Misclassified gallery requested its images.
    expect(fake.callsTo('evaluation.samples')[0]).toEqual({ runId: 'run-new', indices: [2, 5, 9] })

    await matrix.get('[data-cell="2-0"]').trigger('click')
    await settle()
    expect(fake.callsTo('evaluation.samples').at(-1)).toEqual({ runId: 'run-new', indices: [9] })
    expect(wrapper.get('[data-testid="cell-samples"]').text()).toContain(
      'Actual eel → predicted cat',
    )
    expect(wrapper.get('[data-testid="cell-samples"]').findAll('canvas')).toHaveLength(1)

    await matrix.get('[data-cell="1-1"]').trigger('click')
    await settle()
    expect(fake.callsTo('evaluation.samples').at(-1)).toEqual({ runId: 'run-new', indices: [3, 4] })
  })

  it('writes counts as a person would: spaced labels, singular nouns, thousands separators', async () => {
    const big = makeReport({
      count: 12_345,
      confusion: [
        [4_000, 1, 0],
        [0, 4_000, 1],
        [1, 0, 4_342],
      ],
    })
    const { pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => big,
      'evaluation.samples': ({ indices }) => indices.map((i) => makeSample(i, 0)),
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()

    const item = wrapper.get('[data-testid="misclassified-gallery"] .gallery-text > span')
    expect(item.text()).toBe('actual cat · predicted dog')
    expect(wrapper.text()).toContain('of 12,345 test images')

    const matrix = wrapper.get('[data-testid="confusion-matrix"]')
    expect(matrix.get('[data-cell="2-2"]').text()).toBe('4,342')
    expect(matrix.get('[data-cell="2-2"]').attributes('aria-label')).toBe(
      'Actual eel, predicted eel: 4,342 samples',
    )
    expect(matrix.get('[data-cell="0-1"]').attributes('aria-label')).toBe(
      'Actual cat, predicted dog: 1 sample',
    )

    await matrix.get('[data-cell="0-1"]').trigger('click')
    await settle()
    const panel = wrapper.get('[data-testid="cell-samples"]')
    expect(panel.text()).toContain('1 image')
    expect(panel.text()).not.toContain('1 images')
  })

  it('moves between cells with the arrow keys', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport(),
      'evaluation.samples': () => [],
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] }, attachTo: document.body })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    const first = wrapper.get('[data-cell="0-0"]')
    expect(first.attributes('tabindex')).toBe('0')
    expect(wrapper.get('[data-cell="0-1"]').attributes('tabindex')).toBe('-1')
    await first.trigger('keydown', { key: 'ArrowRight' })
    await settle()
    expect(wrapper.get('[data-cell="0-1"]').attributes('tabindex')).toBe('0')
    expect(document.activeElement).toBe(wrapper.get('[data-cell="0-1"]').element)
    wrapper.unmount()
  })

  it('Esc (or Close) closes the cell panel and puts the focus back on its cell', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport(),
      'evaluation.samples': ({ indices }) => indices.map((i) => makeSample(i, 0)),
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] }, attachTo: document.body })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    const panel = () => wrapper.get('[data-testid="cell-samples"]')

    const cell = wrapper.get('[data-cell="2-0"]')
    await cell.trigger('click')
    await settle()
    expect(panel().text()).toContain('Actual eel → predicted cat')
    ;(panel().get('button').element as HTMLButtonElement).focus()
    document.activeElement!.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }),
    )
    await settle()
    expect(panel().text()).toContain('No cell selected')
    expect(document.activeElement).toBe(wrapper.get('[data-cell="2-0"]').element)

    await wrapper.get('[data-cell="1-2"]').trigger('click')
    await settle()
    await panel().get('button').trigger('click')
    await settle()
    expect(panel().text()).toContain('No cell selected')
    expect(document.activeElement).toBe(wrapper.get('[data-cell="1-2"]').element)
    wrapper.unmount()
  })

  it('sorts the per-class table', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport(),
      'evaluation.samples': () => [],
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    const table = wrapper.get('[data-testid="per-class-table"]')
    const firstColumn = () => table.findAll('tbody tr').map((r) => r.find('td').text())
    expect(firstColumn()).toEqual(['cat', 'dog', 'eel'])
    const f1Header = table.findAll('thead th')[3]!
    await f1Header.get('button').trigger('click')
    expect(firstColumn()).toEqual(['eel', 'cat', 'dog'])
    expect(f1Header.attributes('aria-sort')).toBe('descending')
  })

  it('names the evaluated split on its tiles: validation when the dataset has no test split', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport({ split: 'validation', count: 24 }),
      'evaluation.samples': () => [],
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    const tiles = wrapper.findAll('.stat-tile')
    const accuracy = tiles.find((t) => t.find('[data-testid="test-accuracy"]').exists())!
    expect(accuracy.attributes('aria-label')).toBe('Validation accuracy')
    expect(accuracy.get('.stat-label').text()).toBe('Validation accuracy')
    const loss = tiles.find((t) => t.find('[data-testid="test-loss"]').exists())!
    expect(loss.get('.stat-label').text()).toBe('Validation loss')
    expect(wrapper.text()).toContain('of 24 validation images')
    expect(wrapper.text()).not.toMatch(/\btest images\b|Test accuracy/)
  })

  it('says "Test" for a report on the test split', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport({ split: 'test' }),
      'evaluation.samples': () => [],
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    expect(wrapper.text()).toContain('Test accuracy')
    expect(wrapper.text()).toContain('of 10 test images')
  })

  it('lists the runs again after an evaluation, so the accuracy the services kept shows', async () => {
    let evaluated = false
    const { fake, pinia } = setupFake({
      'runs.list': () => [
        makeRun({ metrics: evaluated ? { valAccuracy: 0.7, valLoss: 0.43 } : { epochs: 3 } }),
      ],
      'evaluation.run': () => {
        evaluated = true
        return makeReport({ split: 'validation' })
      },
      'evaluation.samples': () => [],
    })
    const models = useModelsStore()
    await models.refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    expect(fake.callsTo('runs.list')).toHaveLength(2)
    expect(models.runs[0]!.metrics?.valAccuracy).toBe(0.7)
  })
})
