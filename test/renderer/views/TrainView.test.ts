import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { PRESETS } from '@shared/presets'

import { useAppStore } from '@renderer/stores/app'
import { useDatasetStore } from '@renderer/stores/dataset'
import TrainView from '@renderer/views/TrainView.vue'
import { makeDataset, makeEpoch } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

describe('TrainView', () => {
  it('Start sends training.start with the form values', async () => {
    const { fake, pinia } = setupFake({
      'dataset.list': () => [makeDataset({ id: 'mnist', name: 'MNIST' })],
      'training.start': () => ({ runId: 'run-1' }),
    })
    await useDatasetStore().refresh()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })

    await wrapper.get('[data-testid="preset-select"]').setValue('fast')
    await wrapper.get('[data-testid="epochs-input"]').setValue('5')
    await wrapper.get('[data-testid="batch-size-input"]').setValue('64')
    await wrapper.get('[data-testid="learning-rate-input"]').setValue('0.002')
    await wrapper.get('[data-testid="augment-enabled"]').setValue(true)
    await wrapper.get('[data-testid="start-training"]').trigger('click')
    await settle()

    // The fields the user changed, and the fast preset's own settings for the rest.
    const fast = PRESETS.fast.defaults
    const [request] = fake.callsTo('training.start')
    expect(request).toEqual({
      datasetId: 'mnist',
      config: {
        preset: 'fast',
        epochs: 5,
        batchSize: 64,
        learningRate: 0.002,
        lrSchedule: fast.lrSchedule,
        validationSplit: fast.validationSplit,
        augmentation: { ...fast.augmentation, enabled: true },
        earlyStoppingPatience: fast.earlyStoppingPatience,
        seed: 42,
      },
    })
    expect(wrapper.find('[data-testid="stop-training"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="start-training"]').attributes('disabled')).toBeDefined()

    fake.emit('training.progress', {
      runId: 'run-1',
      progress: makeEpoch(0, { epochs: 5, etaSeconds: 134 }),
    })
    fake.emit('training.state', { runId: 'run-1', state: 'early-stopped' })
    await settle()
    expect(wrapper.get('[data-testid="stat-epoch"]').text()).toBe('1 / 5')
    expect(wrapper.get('[data-testid="train-final-state"]').text()).toContain('Stopped early')
    expect(wrapper.find('[data-testid="loss-chart"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="accuracy-chart"]').exists()).toBe(true)
  })

  it('cannot start without a dataset', async () => {
    const { pinia } = setupFake()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })
    await settle()
    expect(wrapper.get('[data-testid="start-training"]').attributes('disabled')).toBeDefined()
    expect(wrapper.text()).toContain('Choose a dataset first')
  })

  it('shows why native TensorFlow is not running on the Backend tile, in full on hover', async () => {
    const { pinia } = setupFake()
    await useAppStore().init()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })
    await settle()
    const tile = wrapper.get('[data-testid="stat-backend"]').element.closest('.stat-tile')!
    expect(wrapper.get('[data-testid="stat-backend"]').text()).toBe('wasm')
    expect(tile.getAttribute('title')).toBe(
      'wasm (WebAssembly SIMD) — native TensorFlow unavailable: libtensorflow.so not found',
    )
    const hint = tile.querySelector('.stat-hint')!
    expect(hint.textContent).toBe('Native TensorFlow unavailable: libtensorflow.so not found')
    expect(hint.getAttribute('title')).toBe(hint.textContent)
    // Wraps instead of being cut to one line.
    expect(hint.classList.contains('wrap')).toBe(true)
  })
})
