import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { useAppStore } from '@renderer/stores/app'
import { useModelsStore } from '@renderer/stores/models'
import EvaluateView from '@renderer/views/EvaluateView.vue'
import { makeDataset, makeReport, makeRun, makeSample } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

const ACTUALS = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]

async function evaluated() {
  const setup = setupFake({
    'runs.list': () => [makeRun({ id: 'run-1', name: 'Mine', datasetId: 'ds-1' })],
    'evaluation.run': () => makeReport(),
    'evaluation.samples': ({ indices }) =>
      indices.map((i) => ({ ...makeSample(i, ACTUALS[i]!), key: `train:${100 + i}` })),
    'collection.correct': () => ({ summary: makeDataset() }),
    'training.fineTune': () => ({ runId: 'run-2' }),
  })
  await useModelsStore().refresh()
  const wrapper = mount(EvaluateView, { global: { plugins: [setup.pinia] } })
  await settle()
  await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
  await settle()
  return { ...setup, wrapper }
}

describe('EvaluateView, correcting misclassified samples', () => {
  it('relabels one (the model’s answer first) and excludes another, by their lasting keys', async () => {
    const { fake, wrapper } = await evaluated()
    const items = wrapper.findAll('[data-testid="misclassified-gallery"] > li')
    expect(items).toHaveLength(3)
    // Sample 2: actual cat, predicted dog. Relabel offers "dog" first, then the other class.
    const select = items[0]!.get('[data-testid="relabel-select"]')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['Relabel…', 'as dog', 'as eel'])
    await select.setValue('dog')
    await settle()
    await items[1]!.get('[data-testid="exclude-sample"]').trigger('click')
    await settle()
    expect(fake.callsTo('collection.correct')).toEqual([
      { datasetId: 'ds-1', key: 'train:102', correction: { action: 'relabel', label: 'dog' } },
      { datasetId: 'ds-1', key: 'train:105', correction: { action: 'exclude' } },
    ])
    expect(items[0]!.text()).toContain('Relabelled as dog')
    expect(items[1]!.text()).toContain('Excluded from training')
    expect(wrapper.get('[data-testid="corrections-banner"]').text()).toContain(
      "2 images corrected in InkLab's copy",
    )

    // Undo takes a correction back (restore).
    await items[1]!.get('button').trigger('click')
    await settle()
    expect(fake.callsTo('collection.correct').at(-1)).toEqual({
      datasetId: 'ds-1',
      key: 'train:105',
      correction: { action: 'restore' },
    })
    expect(items[1]!.find('[data-testid="exclude-sample"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="corrections-banner"]').text()).toContain('1 image corrected')
  })

  it('opens no confusion cell once corrected (its indices may name other samples now)', async () => {
    const { fake, wrapper } = await evaluated()
    await wrapper
      .findAll('[data-testid="misclassified-gallery"] > li')[0]!
      .get('[data-testid="exclude-sample"]')
      .trigger('click')
    await settle()
    const before = fake.callsTo('evaluation.samples').length
    await wrapper.get('[data-testid="confusion-matrix"] [data-cell="2-0"]').trigger('click')
    await settle()
    expect(fake.callsTo('evaluation.samples')).toHaveLength(before)
    expect(wrapper.text()).toContain('evaluate again to open its cells')
  })

  it('fine-tunes the evaluated model on the corrected dataset', async () => {
    const { fake, wrapper } = await evaluated()
    await wrapper
      .findAll('[data-testid="misclassified-gallery"] > li')[2]!
      .get('[data-testid="relabel-select"]')
      .setValue('cat')
    await settle()
    await wrapper.get('[data-testid="corrections-fine-tune"]').trigger('click')
    await settle()
    expect(fake.callsTo('training.fineTune')).toEqual([{ runId: 'run-1' }])
    expect(useAppStore().view).toBe('train')
  })
})

describe('EvaluateView, correcting on a later page of mistakes', () => {
  it('relabels and excludes samples of the page on screen, by their own keys', async () => {
    const mistakes = Array.from({ length: 60 }, (_, i) => ({
      index: i,
      actual: 0,
      predicted: 1,
      top: [{ index: 1, p: 0.9 }],
    }))
    const { fake, pinia } = setupFake({
      'runs.list': () => [makeRun({ id: 'run-1', name: 'Mine', datasetId: 'ds-1' })],
      'evaluation.run': () => makeReport({ count: 100, misclassified: mistakes }),
      'evaluation.samples': ({ indices }) =>
        indices.map((i) => ({ ...makeSample(i, 0), key: `train:${1000 + i}` })),
      'collection.correct': () => ({ summary: makeDataset() }),
    })
    await useModelsStore().refresh()
    const wrapper = mount(EvaluateView, { global: { plugins: [pinia] } })
    await settle()
    await wrapper.get('[data-testid="run-evaluation"]').trigger('click')
    await settle()
    await wrapper.get('[data-testid="gallery-next"]').trigger('click')
    await settle()
    const items = wrapper.findAll('[data-testid="misclassified-gallery"] > li')
    expect(items).toHaveLength(12)
    await items[0]!.get('[data-testid="relabel-select"]').setValue('dog')
    await settle()
    await items[11]!.get('[data-testid="exclude-sample"]').trigger('click')
    await settle()
    expect(fake.callsTo('collection.correct')).toEqual([
      { datasetId: 'ds-1', key: 'train:1048', correction: { action: 'relabel', label: 'dog' } },
      { datasetId: 'ds-1', key: 'train:1059', correction: { action: 'exclude' } },
    ])
    expect(items[0]!.text()).toContain('Relabelled as dog')
    // Back on the first page and again on the second: the corrections are still shown.
    await wrapper.get('[data-testid="gallery-prev"]').trigger('click')
    await settle()
    await wrapper.get('[data-testid="gallery-next"]').trigger('click')
    await settle()
    const again = wrapper.findAll('[data-testid="misclassified-gallery"] > li')
    expect(again[11]!.text()).toContain('Excluded from training')
    expect(wrapper.get('[data-testid="corrections-banner"]').text()).toContain('2 images corrected')
  })
})
