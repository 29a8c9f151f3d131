import { mount, type VueWrapper } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'

import { PRESETS } from '@shared/presets'
import { LAYER_LIMITS, TRAIN_LIMITS, type LayerSpec } from '@shared/schemas'

import { useAppStore } from '@renderer/stores/app'
import { useDatasetStore } from '@renderer/stores/dataset'
import TrainView from '@renderer/views/TrainView.vue'
import { makeDataset, makeEpoch, makeReport } from '../helpers/fixtures'
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
    // Out of range first: named with its rule, and nothing is sent.
    await wrapper.get('[data-testid="ema-input"]').setValue('1')
    await wrapper.get('[data-testid="start-training"]').trigger('click')
    await settle()
    expect(fake.callsTo('training.start')).toEqual([])
    expect(wrapper.get('[data-testid="train-form-errors"]').text()).toBe(
      'Weight averaging must be a number between 0 and 0.9999.',
    )
    await wrapper.get('[data-testid="ema-input"]').setValue('0.999')
    await wrapper.get('[data-testid="members-input"]').setValue('2')
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
        emaDecay: 0.999,
        members: 2,
        seed: 42,
      },
    })
    expect(wrapper.find('[data-testid="stop-training"]').exists()).toBe(true)
    // Two networks of 5 epochs each: the run counts 10 epochs from the start.
    expect(wrapper.get('[data-testid="stat-epoch"]').text()).toBe('1 / 10')
    expect(wrapper.get('[data-testid="start-training"]').attributes('disabled')).toBeDefined()

    fake.emit('training.progress', {
      runId: 'run-1',
      progress: makeEpoch(0, { epochs: 10, etaSeconds: 134 }),
    })
    fake.emit('training.state', { runId: 'run-1', state: 'early-stopped' })
    await settle()
    expect(wrapper.get('[data-testid="stat-epoch"]').text()).toContain('1 / 10')
    expect(wrapper.get('[data-testid="stat-network"]').text()).toBe('network 1 of 2')
    expect(wrapper.get('[data-testid="train-final-state"]').text()).toContain('Stopped early')
    expect(wrapper.find('[data-testid="loss-chart"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="accuracy-chart"]').exists()).toBe(true)
  })

  it('"Evaluate →" on the completion banner evaluates the run on the Evaluate view', async () => {
    const { fake, pinia } = setupFake({
      'dataset.list': () => [makeDataset()],
      'training.start': () => ({ runId: 'run-1' }),
      'evaluation.run': () => makeReport(),
      'evaluation.samples': () => [],
    })
    await useDatasetStore().refresh()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })
    await wrapper.get('[data-testid="start-training"]').trigger('click')
    await settle()
    fake.emit('training.state', { runId: 'run-1', state: 'completed', hasModel: true })
    await settle()
    await wrapper.get('[data-testid="evaluate-run"]').trigger('click')
    await settle()
    expect(useAppStore().view).toBe('evaluate')
    expect(fake.callsTo('evaluation.run')).toEqual([{ runId: 'run-1' }])

    // A run stopped before any epoch ended has nothing to evaluate.
    fake.handle('training.start', () => ({ runId: 'run-2' }))
    await wrapper.get('[data-testid="start-training"]').trigger('click')
    await settle()
    fake.emit('training.state', {
      runId: 'run-2',
      state: 'cancelled',
      message: 'Stopped before the first epoch ended: nothing was saved.',
      hasModel: false,
    })
    await settle()
    expect(wrapper.get('[data-testid="train-final-state"]').text()).toContain('nothing was saved')
    expect(wrapper.find('[data-testid="evaluate-run"]').exists()).toBe(false)
  })

  it('writes the batch counter and the dataset size with thousands separators', async () => {
    const { fake, pinia } = setupFake({
      'dataset.list': () => [
        makeDataset({ id: 'mnist', name: 'MNIST', trainSize: 60_000, labels: ['a', 'b'] }),
      ],
      'training.start': () => ({ runId: 'run-1' }),
    })
    await useDatasetStore().refresh()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })
    expect(wrapper.get('.view-header p').text()).toContain('60,000 training images, 2 classes')
    await wrapper.get('[data-testid="start-training"]').trigger('click')
    await settle()
    fake.emit('training.progress', {
      runId: 'run-1',
      progress: {
        kind: 'batch',
        epoch: 0,
        batch: 1_499,
        batchesPerEpoch: 1_875,
        step: 1_499,
        loss: 0.3,
        accuracy: 0.9,
        samplesPerSecond: 1_234,
        etaSeconds: 60,
        elapsedSeconds: 30,
      },
    })
    await vi.waitFor(() => {
      expect(wrapper.get('[data-testid="stat-epoch"]').element.parentElement!.textContent).toMatch(
        /batch 1,500 \/\s+1,875/,
      )
    })
  })

  it('an emptied number field names the field, marks it invalid and sends nothing', async () => {
    const { fake, pinia } = setupFake({
      'dataset.list': () => [makeDataset({ id: 'mnist', name: 'MNIST' })],
      'training.start': () => ({ runId: 'run-1' }),
    })
    await useDatasetStore().refresh()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })

    await wrapper.get('[data-testid="epochs-input"]').setValue('')
    await wrapper.get('[data-testid="start-training"]').trigger('click')
    await settle()
    expect(fake.callsTo('training.start')).toEqual([])
    expect(wrapper.get('[data-testid="train-form-errors"]').text()).toBe(
      'Epochs must be a whole number between 1 and 1000.',
    )
    const epochs = wrapper.get('[data-testid="epochs-input"]')
    expect(epochs.attributes('aria-invalid')).toBe('true')
    const messageId = epochs.attributes('aria-describedby')!
    expect(wrapper.get(`#${messageId}`).text()).toContain('Epochs must be')
    expect(wrapper.get('[data-testid="batch-size-input"]').attributes('aria-invalid')).toBe(
      undefined,
    )

    // Fixing the field clears the message; Start then goes through.
    await epochs.setValue('3')
    await settle()
    expect(wrapper.find('[data-testid="train-form-errors"]').exists()).toBe(false)
    expect(epochs.attributes('aria-invalid')).toBe(undefined)
    await wrapper.get('[data-testid="start-training"]').trigger('click')
    await settle()
    expect(fake.callsTo('training.start')).toHaveLength(1)
  })

  it.each(['classic', 'fast', 'robust', 'accurate'] as const)(
    "the %s preset's augmentation sits on its sliders' steps, and the labels say the same",
    async (preset) => {
      const { pinia } = setupFake({ 'dataset.list': () => [makeDataset()] })
      await useDatasetStore().refresh()
      const wrapper = mount(TrainView, { global: { plugins: [pinia] } })
      await wrapper.get('[data-testid="preset-select"]').setValue(preset)
      await wrapper.get('[data-testid="augment-enabled"]').setValue(true)
      const sliders = wrapper.findAll('fieldset.augment input[type="range"]')
      expect(sliders).toHaveLength(6)
      const augmentation = PRESETS[preset].defaults.augmentation
      const values = [
        augmentation.rotation,
        augmentation.zoom,
        augmentation.shift,
        augmentation.shear,
        augmentation.thickness,
        augmentation.elastic,
      ]
      sliders.forEach((slider, i) => {
        const input = slider.element as HTMLInputElement
        const [min, max, step] = [Number(input.min), Number(input.max), Number(input.step)]
        const value = values[i]!
        expect(value).toBeGreaterThanOrEqual(min)
        expect(value).toBeLessThanOrEqual(max)
        const steps = (value - min) / step
        expect(
          Math.abs(steps - Math.round(steps)),
          `${input.name || i}: ${value} on step ${step}`,
        ).toBeLessThan(1e-9)
      })
      const labels = wrapper.findAll('fieldset.augment .field > span').map((l) => l.text())
      expect(labels).toEqual([
        `Rotation ±${augmentation.rotation}°`,
        `Zoom ±${Math.round(augmentation.zoom * 100)}%`,
        `Shift ±${augmentation.shift} px`,
        `Slant ±${augmentation.shear}°`,
        `Stroke +${augmentation.thickness} px`,
        `Wobble ${augmentation.elastic} px`,
      ])
    },
  )

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

  describe('custom architecture', () => {
    const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']

    async function mountCustom() {
      const { fake, pinia } = setupFake({
        'dataset.list': () => [makeDataset({ id: 'mnist', name: 'MNIST', labels: DIGITS })],
        'training.start': () => ({ runId: 'run-9' }),
      })
      await useDatasetStore().refresh()
      const wrapper = mount(TrainView, { global: { plugins: [pinia] }, attachTo: document.body })
      expect(wrapper.find('[data-testid="architecture-editor"]').exists()).toBe(false)
      await wrapper.get('[data-testid="preset-select"]').setValue('custom')
      return { fake, wrapper }
    }

    const rows = (wrapper: VueWrapper) => wrapper.findAll('[data-testid="layer-row"]')
    const startDisabled = (wrapper: VueWrapper) =>
      wrapper.get('[data-testid="start-training"]').attributes('disabled') !== undefined

    it("choosing Custom shows Classic's layers with their shapes and parameters", async () => {
      const { wrapper } = await mountCustom()
      const editor = wrapper.get('[data-testid="architecture-editor"]')
      const classic = PRESETS.classic.architecture.layers
      expect(
        rows(wrapper).map(
          (r) => (r.get('[data-testid="layer-type"]').element as HTMLSelectElement).value,
        ),
      ).toEqual(classic.map((l) => l.type))
      expect(rows(wrapper).map((r) => r.get('[data-testid="layer-shape"]').text())).toEqual([
        '26x26x32',
        '13x13x32',
        '11x11x64',
        '5x5x64',
        '1600',
        '1600',
      ])
      expect(rows(wrapper)[0]!.get('[data-testid="layer-params"]').text()).toBe('320')
      expect(editor.get('[data-testid="output-row"]').text()).toContain('output: dense 10 softmax')
      // Keras mnist_convnet: 34,826 parameters.
      expect(editor.get('[data-testid="architecture-total-params"]').text()).toBe('34,826')
      expect(wrapper.find('[data-testid="architecture-errors"]').exists()).toBe(false)
      expect(startDisabled(wrapper)).toBe(false)
      wrapper.unmount()
    })

    it('marks the output layer when the network ends image-shaped, and bounds each setting as the schema does', async () => {
      const { wrapper } = await mountCustom()
      // Removing flatten and dropout leaves an image-shaped output.
      await wrapper.get('[aria-label="Remove layer 6"]').trigger('click')
      await wrapper.get('[aria-label="Remove layer 5"]').trigger('click')
      expect(wrapper.get('[data-testid="architecture-errors"]').text()).toContain(
        'output (dense 10 softmax): input is 5x5x64',
      )
      expect(wrapper.get('[data-testid="output-row"]').classes()).toContain('invalid')
      expect(rows(wrapper).some((r) => r.classes().includes('invalid'))).toBe(false)
      const filters = rows(wrapper)[0]!.get('[data-testid="layer-filters"]')
      expect(Number(filters.attributes('max'))).toBe(LAYER_LIMITS.filters.max)
      // The form and the contract agree on the learning rate's range.
      const lr = wrapper.get('[data-testid="learning-rate-input"]')
      expect(Number(lr.attributes('min'))).toBe(TRAIN_LIMITS.learningRate.min)
      expect(Number(lr.attributes('max'))).toBe(TRAIN_LIMITS.learningRate.max)
      wrapper.unmount()
    })

    it('names the layer that does not fit, blocks Start, and trains exactly the edited layers once fixed', async () => {
      const { fake, wrapper } = await mountCustom()
      await wrapper.get('[data-testid="epochs-input"]').setValue('1')
      await wrapper.get('[data-testid="add-layer-type"]').setValue('conv2d')
      await wrapper.get('[data-testid="add-layer"]').trigger('click')
      expect(rows(wrapper)).toHaveLength(7)
      // Appended after flatten: wrong place. Two moves up put it right after the second pool.
      expect(wrapper.get('[data-testid="architecture-errors"]').text()).toContain(
        'layer 7 (conv2d 3x3): input is a vector of 1600',
      )
      await wrapper.get('[aria-label="Move layer 7 up"]').trigger('click')
      await wrapper.get('[aria-label="Move layer 6 up"]').trigger('click')
      await settle()
      // Focus follows the moved layer, for keyboard users.
      expect(document.activeElement?.getAttribute('aria-label')).toBe('Move layer 5 up')
      expect(wrapper.find('[data-testid="architecture-errors"]').exists()).toBe(false)

      const added = rows(wrapper)[4]!
      await added.get('[data-testid="layer-kernel"]').setValue('7')
      const errors = wrapper.get('[data-testid="architecture-errors"]')
      expect(errors.text()).toContain(
        'layer 5 (conv2d 7x7): input is 5x5, too small for a 7x7 kernel with valid padding',
      )
      expect(rows(wrapper)[4]!.classes()).toContain('invalid')
      expect(wrapper.get('[data-testid="architecture-total-params"]').text()).toBe('—')
      expect(startDisabled(wrapper)).toBe(true)
      await wrapper.get('[data-testid="start-training"]').trigger('click')
      await settle()
      expect(fake.callsTo('training.start')).toHaveLength(0)

      await added.get('[data-testid="layer-kernel"]').setValue('3')
      await added.get('[data-testid="layer-filters"]').setValue('48')
      expect(wrapper.find('[data-testid="architecture-errors"]').exists()).toBe(false)
      expect(startDisabled(wrapper)).toBe(false)
      await wrapper.get('[data-testid="start-training"]').trigger('click')
      await settle()

      const classic = PRESETS.classic
      const layers: LayerSpec[] = [
        ...classic.architecture.layers.slice(0, 4),
        {
          type: 'conv2d',
          filters: 48,
          kernelSize: 3,
          strides: 1,
          padding: 'valid',
          activation: 'relu',
        },
        ...classic.architecture.layers.slice(4),
      ]
      const [request] = fake.callsTo('training.start')
      expect(request).toEqual({
        datasetId: 'mnist',
        config: {
          preset: 'custom',
          architecture: { layers },
          ...classic.defaults,
          epochs: 1,
          seed: 42,
        },
      })
      wrapper.unmount()
    })

    it('imports a valid JSON architecture and shows why an invalid one is refused', async () => {
      const { wrapper } = await mountCustom()
      await wrapper.get('[data-testid="architecture-import"]').trigger('click')
      const area = wrapper.get('[data-testid="architecture-json"]')

      await area.setValue('{ "layers": [{ "type": "conv2d" }] }')
      await wrapper.get('[data-testid="architecture-json-apply"]').trigger('click')
      expect(wrapper.get('[data-testid="architecture-json-error"]').text()).toContain(
        'layer 1 (filters): Invalid input',
      )
      await area.setValue('{ "layers": [')
      await wrapper.get('[data-testid="architecture-json-apply"]').trigger('click')
      expect(wrapper.get('[data-testid="architecture-json-error"]').text()).toContain(
        'Not valid JSON',
      )
      // Nothing changed.
      expect(rows(wrapper)).toHaveLength(PRESETS.classic.architecture.layers.length)

      await area.setValue(
        JSON.stringify({
          layers: [
            { type: 'conv2d', filters: 8, kernelSize: 5, strides: 2, padding: 'same' },
            { type: 'globalAveragePool' },
            { type: 'dense', units: 16 },
          ],
        }),
      )
      await wrapper.get('[data-testid="architecture-json-apply"]').trigger('click')
      expect(wrapper.find('[data-testid="architecture-json"]').exists()).toBe(false)
      expect(rows(wrapper).map((r) => r.get('[data-testid="layer-shape"]').text())).toEqual([
        '14x14x8',
        '8',
        '16',
      ])
      expect(
        (rows(wrapper)[0]!.get('[data-testid="layer-filters"]').element as HTMLInputElement).value,
      ).toBe('8')
      // 5*5*8+8 + (8*16+16) + (16*10+10)
      expect(wrapper.get('[data-testid="architecture-total-params"]').text()).toBe('522')
      wrapper.unmount()
    })

    it('copies the architecture as the JSON the CLI reads, or shows it when there is no clipboard', async () => {
      const { wrapper } = await mountCustom()
      const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue(undefined)
      await wrapper.get('[data-testid="architecture-copy"]').trigger('click')
      await settle()
      expect(JSON.parse(writeText.mock.calls[0]![0])).toEqual(PRESETS.classic.architecture)
      expect(wrapper.find('[data-testid="architecture-json"]').exists()).toBe(false)

      writeText.mockRejectedValue(new Error('not allowed'))
      await wrapper.get('[data-testid="architecture-copy"]').trigger('click')
      await settle()
      const area = wrapper.get('[data-testid="architecture-json"]').element as HTMLTextAreaElement
      expect(JSON.parse(area.value)).toEqual(PRESETS.classic.architecture)
      expect(area.readOnly).toBe(true)
      writeText.mockRestore()
      wrapper.unmount()
    })

    it('Start from copies a preset and keeps the training settings the user typed', async () => {
      const { wrapper } = await mountCustom()
      await wrapper.get('[data-testid="epochs-input"]').setValue('4')
      await wrapper.get('[data-testid="architecture-from-fast"]').trigger('click')
      expect(
        rows(wrapper).map(
          (r) => (r.get('[data-testid="layer-type"]').element as HTMLSelectElement).value,
        ),
      ).toEqual(PRESETS.fast.architecture.layers.map((l) => l.type))
      expect((wrapper.get('[data-testid="epochs-input"]').element as HTMLInputElement).value).toBe(
        '4',
      )
      wrapper.unmount()
    })
  })
})

describe('TrainView defaults for folders', () => {
  it('a folder dataset starts at the robust preset and warns about classes with too few images', async () => {
    const { fake, pinia } = setupFake({
      'dataset.list': () => [
        makeDataset({
          id: 'letters',
          labels: ['a', 'b', 'c'],
          trainCounts: [400, 7, 19],
          trainSize: 426,
        }),
      ],
      'training.start': () => ({ runId: 'run-1' }),
    })
    await useDatasetStore().refresh()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })
    await settle()

    expect((wrapper.get('[data-testid="preset-select"]').element as HTMLSelectElement).value).toBe(
      'robust',
    )
    const warning = wrapper.get('[data-testid="sparse-classes"]').text()
    expect(warning).toContain('2 classes have fewer than 20 training images')
    expect(warning).toContain('"b" 7, "c" 19')

    // The real-ink augmentations have their own sliders, filled from the preset.
    const slider = (id: string) =>
      (wrapper.get(`[data-testid="augment-${id}"]`).element as HTMLInputElement).value
    expect(slider('thickness')).toBe(String(PRESETS.robust.defaults.augmentation.thickness))
    expect(slider('shear')).toBe(String(PRESETS.robust.defaults.augmentation.shear))
    expect(slider('elastic')).toBe(String(PRESETS.robust.defaults.augmentation.elastic))

    await wrapper.get('[data-testid="start-training"]').trigger('click')
    await settle()
    const [request] = fake.callsTo('training.start')
    const robust = PRESETS.robust.defaults
    expect(request?.config).toMatchObject({
      preset: 'robust',
      epochs: robust.epochs,
      earlyStoppingPatience: robust.earlyStoppingPatience,
      validationSplit: robust.validationSplit,
      augmentation: robust.augmentation,
    })
  })

  it('MNIST starts at the fast preset, and a preset the user chose stays chosen', async () => {
    const { pinia } = setupFake({
      'dataset.list': () => [
        makeDataset({
          id: 'mnist',
          source: { kind: 'builtin', name: 'mnist' },
          trainCounts: [50, 50, 50],
        }),
        makeDataset({ id: 'letters' }),
      ],
    })
    const datasets = useDatasetStore()
    await datasets.refresh()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })
    await settle()
    const select = () =>
      (wrapper.get('[data-testid="preset-select"]').element as HTMLSelectElement).value
    expect(select()).toBe('fast')
    expect(wrapper.find('[data-testid="sparse-classes"]').exists()).toBe(false)
    await wrapper.get('[data-testid="preset-select"]').setValue('classic')
    datasets.select('letters')
    await settle()
    expect(select()).toBe('classic')
  })
})

describe('TrainView expected time', () => {
  it('says how long the form’s training should take before Start, as an estimate', async () => {
    const { pinia } = setupFake({
      'dataset.list': () => [
        makeDataset({
          id: 'mnist',
          name: 'MNIST',
          source: { kind: 'builtin', name: 'mnist' },
          labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
          trainCounts: new Array(10).fill(6_000),
          trainSize: 60_000,
        }),
      ],
    })
    await useAppStore().init()
    await useDatasetStore().refresh()
    const wrapper = mount(TrainView, { global: { plugins: [pinia] } })
    await settle()
    const estimate = () => wrapper.get('[data-testid="train-estimate"]').text()
    // Fast on MNIST on WebAssembly: about two minutes (the README measured 114 s).
    expect(estimate()).toMatch(/^training takes about 1m \d\ds on wasm \(estimate\)$/)
    expect(wrapper.get('[data-testid="stat-eta"]').text()).toMatch(/^about 1m \d\ds$/)
    await wrapper.get('[data-testid="epochs-input"]').setValue('6')
    expect(estimate()).toMatch(/about 3m \d\ds/)
    await wrapper.get('[data-testid="preset-select"]').setValue('classic')
    // Classic's 15 epochs: the better part of an hour on WebAssembly.
    expect(estimate()).toMatch(/about 2\dm \d\ds|about [3-5]\dm \d\ds/)
  })
})
