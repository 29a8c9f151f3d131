import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { useAppStore } from '@renderer/stores/app'
import { useDatasetStore } from '@renderer/stores/dataset'
import { useModelsStore } from '@renderer/stores/models'
import ModelsView from '@renderer/views/ModelsView.vue'
import { makeDataset, makeRun, makeRunDetail } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

const parent = makeRunDetail({
  id: 'run-1',
  name: 'Shapes',
  state: 'completed',
  datasetId: 'ds-1',
  labels: ['a', 'b', 'c'],
})
const tuned = makeRunDetail({
  id: 'run-2',
  name: 'Shapes · fine-tuned',
  state: 'completed',
  datasetId: 'ds-1',
  datasetName: 'Letters',
  labels: ['a', 'b', 'c'],
  metrics: {
    epochs: 34,
    seconds: 2.5,
    evaluation: { split: 'validation', accuracy: 0.9, loss: 0.3, count: 20 },
  },
  config: { ...parent.config, learningRate: 0.0003 },
  fineTunedFrom: {
    runId: 'run-1',
    name: 'Shapes',
    sameHeldOut: true,
    evaluation: { split: 'validation', accuracy: 0.85, loss: 0.4, count: 20 },
  },
})

function setup() {
  return setupFake({
    'runs.list': () => [makeRun({ ...tuned, history: undefined } as never), makeRun(parent)],
    'runs.get': ({ runId }) => (runId === 'run-1' ? parent : tuned),
    'dataset.list': () => [
      makeDataset({ id: 'ds-1', name: 'Letters', trainSize: 30 }),
      makeDataset({ id: 'ds-2', name: 'More letters', trainSize: 300 }),
      makeDataset({ id: 'ds-3', name: 'Digits', labels: ['0', '1'], trainCounts: [1, 1] }),
    ],
    'training.fineTune': () => ({ runId: 'run-3' }),
    // The services' plan: a third of the rate; the epochs for the chosen dataset.
    'training.fineTuneDefaults': ({ datasetId }) => ({
      epochs: datasetId === 'ds-2' ? 134 : 200,
      learningRate: 0.0003,
    }),
  })
}

describe('ModelsView, fine-tuning', () => {
  it('compares a fine-tuned run with its parent on the same held-out images, and overlays its charts', async () => {
    const { pinia } = setup()
    await useModelsStore().refresh()
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await useModelsStore().select('run-2')
    await settle()
    const card = wrapper.get('[data-testid="fine-tune-comparison"]')
    expect(card.get('h2').text()).toBe('Fine-tuned from Shapes')
    expect(card.text()).toContain(
      'the ones the earlier model held out: neither model trained on them',
    )
    expect(
      wrapper
        .get('[data-testid="fine-tune-accuracy"]')
        .findAll('td')
        .map((td) => td.text()),
    ).toEqual(['85.00%', '90.00%', '+5.00 pts'])
    expect(card.text()).toContain('2.5 s for 1 epoch at a learning rate of 0.0003')
    expect(useModelsStore().compareId).toBe('run-1')
    expect(wrapper.find('.runs-table .badge[title="Fine-tuned from Shapes"]').exists()).toBe(true)
  })

  it('starts a fine-tune with the short schedule (a third of the rate), on a dataset with the same classes', async () => {
    const { fake, pinia } = setup()
    await Promise.all([useModelsStore().refresh(), useDatasetStore().refresh()])
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await useModelsStore().select('run-1')
    await settle()
    const card = wrapper.get('[data-testid="fine-tune-card"]')
    const options = card.findAll('[data-testid="fine-tune-dataset"] option').map((o) => o.text())
    expect(options, 'only datasets with the run’s classes').toEqual(['Letters', 'More letters'])
    // The form shows the schedule the services plan for the run's own dataset, then for another.
    expect(fake.callsTo('training.fineTuneDefaults')).toEqual([
      { runId: 'run-1', datasetId: 'ds-1' },
    ])
    expect((card.get('[data-testid="fine-tune-epochs"]').element as HTMLInputElement).value).toBe(
      '200',
    )
    expect(
      Number(
        (card.get('[data-testid="fine-tune-learning-rate"]').element as HTMLInputElement).value,
      ),
    ).toBeCloseTo(0.0003)
    await card.get('[data-testid="fine-tune-dataset"]').setValue('ds-2')
    await settle()
    expect((card.get('[data-testid="fine-tune-epochs"]').element as HTMLInputElement).value).toBe(
      '134',
    )
    await card.get('[data-testid="fine-tune-epochs"]').setValue('3')
    await card.get('form').trigger('submit')
    await settle()
    expect(fake.callsTo('training.fineTune')).toEqual([
      { runId: 'run-1', datasetId: 'ds-2', epochs: 3, learningRate: expect.closeTo(0.0003, 10) },
    ])
    expect(useAppStore().view).toBe('train')
  })

  it('says in the card why a fine-tune cannot be planned, and offers no start', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [makeRun(parent)],
      'runs.get': () => parent,
      'dataset.list': () => [],
      'training.fineTuneDefaults': () => {
        throw new Error('dataset “Letters” was not found')
      },
    })
    await useModelsStore().refresh()
    const wrapper = mount(ModelsView, { global: { plugins: [pinia] } })
    await useModelsStore().select('run-1')
    await settle()
    expect(wrapper.get('[data-testid="fine-tune-problem"]').text()).toContain(
      'dataset “Letters” was not found',
    )
    expect(wrapper.get('[data-testid="fine-tune-start"]').attributes('disabled')).toBeDefined()
  })
})
