import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { useAppStore } from '@renderer/stores/app'
import { useDatasetStore } from '@renderer/stores/dataset'
import { useModelsStore } from '@renderer/stores/models'
import EvaluateView from '@renderer/views/EvaluateView.vue'
import type { Misclassified } from '@shared/schemas'

import { TEST_APP_INFO } from '../helpers/fakeBridge'
import { makeDataset, makeReport, makeRun, makeSample } from '../helpers/fixtures'
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
    expect(wrapper.text()).toContain('of 12,345 held-out test images')

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

  it('says "Held-out test" for a report on the test split, and of which dataset', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport({ split: 'test' }),
      'evaluation.samples': () => [],
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    expect(wrapper.text()).toContain('Held-out test accuracy')
    expect(wrapper.text()).toContain('of 10 held-out test images')
    expect(wrapper.get('[data-testid="evaluated-split"]').text()).toMatch(
      /^Held-out test split of MNIST · 10 images, images training never saw$/,
    )
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

  /** `n` mistakes of a folder dataset, each naming its file. */
  function mistakes(n: number): Misclassified[] {
    return Array.from({ length: n }, (_, i) => ({
      index: i,
      actual: 0,
      predicted: 1,
      top: [{ index: 1, p: 0.9 }],
      file: `cat/img${i}.png`,
      path: `/data/pets/cat/img${i}.png`,
    }))
  }

  it('pages through every mistake, loading each page of images as it is shown', async () => {
    const { fake, pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport({ count: 100, misclassified: mistakes(60) }),
      'evaluation.samples': ({ indices }) => indices.map((i) => makeSample(i, 0)),
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    const items = () => wrapper.findAll('[data-testid="misclassified-gallery"] > li')
    expect(items()).toHaveLength(48)
    expect(wrapper.text()).toContain('60 listed, showing 1–48')
    expect(wrapper.get('[data-testid="gallery-page"]').text()).toBe('Page 1 of 2')
    expect(fake.callsTo('evaluation.samples').at(-1)?.indices).toHaveLength(48)

    await wrapper.get('[data-testid="gallery-next"]').trigger('click')
    await settle()
    expect(items()).toHaveLength(12)
    expect(items()[0]!.text()).toContain('cat/img48.png')
    expect(wrapper.text()).toContain('showing 49–60')
    expect(fake.callsTo('evaluation.samples').at(-1)?.indices).toEqual(
      Array.from({ length: 12 }, (_, i) => 48 + i),
    )
    expect(items()[11]!.findAll('canvas')).toHaveLength(1)
    expect(wrapper.get('[data-testid="gallery-next"]').attributes('disabled')).toBeDefined()

    // Back to a page seen before: its images are kept, not asked for again.
    const asked = fake.callsTo('evaluation.samples').length
    await wrapper.get('[data-testid="gallery-prev"]').trigger('click')
    await settle()
    expect(items()).toHaveLength(48)
    expect(fake.callsTo('evaluation.samples')).toHaveLength(asked)
  })

  it('names each mistake’s file; the desktop app shows it in its folder', async () => {
    const { fake, pinia } = setupFake({
      'app.info': () => ({ ...TEST_APP_INFO, transport: 'ipc', nativeDialogs: true }),
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport({ misclassified: mistakes(2) }),
      'evaluation.samples': () => [],
      'shell.reveal': () => ({ ok: true }),
    })
    await useAppStore().init()
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    const file = wrapper.findAll('[data-testid="misclassified-file"]')[1]!
    expect(file.get('.file-name').text()).toBe('cat/img1.png')
    expect(file.get('.file-name').attributes('title')).toBe('/data/pets/cat/img1.png')
    await file.get('button').trigger('click')
    await settle()
    expect(fake.callsTo('shell.reveal')).toEqual([{ path: '/data/pets/cat/img1.png' }])
  })

  it('in a browser names the file and its path, with no button that cannot work', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport({ misclassified: mistakes(1) }),
      'evaluation.samples': () => [],
    })
    await useAppStore().init()
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    const file = wrapper.get('[data-testid="misclassified-file"]')
    expect(file.text()).toBe('cat/img0.png')
    expect(file.get('.file-name').attributes('title')).toBe('/data/pets/cat/img0.png')
    expect(file.find('button').exists()).toBe(false)
  })

  it('evaluates on another dataset with the model’s classes, and says so', async () => {
    const pets = makeDataset({ id: 'ds-1', name: 'Pets', labels: ['cat', 'dog', 'eel'] })
    const more = makeDataset({ id: 'ds-2', name: 'More pets', labels: ['cat', 'dog', 'eel'] })
    const letters = makeDataset({ id: 'ds-3', name: 'Letters', labels: ['a', 'b', 'c'] })
    const { fake, pinia } = setupFake({
      'dataset.list': () => [pets, more, letters],
      'runs.list': () => [makeRun({ datasetId: 'ds-1', datasetName: 'Pets' })],
      'evaluation.last': () => null,
      'evaluation.run': ({ datasetId }) =>
        makeReport({
          split: 'test',
          dataset: datasetId ? { id: 'ds-2', name: 'More pets' } : { id: 'ds-1', name: 'Pets' },
        }),
      'evaluation.samples': () => [],
    })
    await useDatasetStore().refresh()
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await settle()
    const select = wrapper.get('[data-testid="eval-dataset-select"]')
    // Only datasets with the same classes, besides its own.
    expect(select.findAll('option').map((o) => o.text())).toEqual([
      'On its own dataset',
      'On More pets',
    ])
    await select.setValue('ds-2')
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    expect(fake.callsTo('evaluation.run')).toEqual([{ runId: 'run-1', datasetId: 'ds-2' }])
    expect(wrapper.get('[data-testid="evaluated-split"]').text()).toContain(
      'Held-out test split of More pets',
    )
    // The images behind the figures come from that dataset.
    expect(fake.callsTo('evaluation.samples')[0]).toMatchObject({ datasetId: 'ds-2' })
  })
})
