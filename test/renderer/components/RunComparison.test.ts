import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import RunComparison from '@renderer/components/RunComparison.vue'
import type { RunSummary } from '@shared/schemas'
import { makeRun, makeRunDetail } from '../helpers/fixtures'

const BACKEND = {
  name: 'native',
  requested: 'auto',
  tfjsBackend: 'tensorflow',
  detail: 'native (libtensorflow)',
} as const

/** Three runs with every column filled differently, listed newest first. */
function runs(): RunSummary[] {
  const { config } = makeRunDetail()
  return [
    makeRun({
      id: 'fast',
      name: 'Fast digits',
      preset: 'fast',
      datasetName: 'MNIST',
      config: {
        ...config,
        preset: 'fast',
        epochs: 3,
        batchSize: 256,
        learningRate: 0.01,
        lrSchedule: 'onecycle',
        augmentation: {
          ...config.augmentation,
          enabled: true,
          rotation: 8,
          zoom: 0.08,
          shift: 1.5,
        },
      },
      metrics: { testAccuracy: 0.9921, epochs: 3, seconds: 95 },
      backend: BACKEND,
    }),
    makeRun({
      id: 'folder',
      name: 'Letters',
      preset: 'robust',
      datasetName: 'my-letters',
      config: { ...config, preset: 'robust', epochs: 20, batchSize: 64, learningRate: 0.002 },
      metrics: {
        valAccuracy: 0.9,
        evaluation: { split: 'validation', accuracy: 0.875, loss: 0.3, count: 40 },
        epochs: 12,
        seconds: 3725,
      },
      backend: { ...BACKEND, name: 'wasm', tfjsBackend: 'wasm', detail: 'wasm (SIMD, 2 threads)' },
    }),
    // The bundled model: no settings recorded, no backend.
    makeRun({
      id: 'builtin-mnist',
      name: 'MNIST + pen digits',
      preset: 'fast',
      builtin: true,
      metrics: { testAccuracy: 0.9924, epochs: 10, seconds: 1108 },
    }),
  ]
}

function mountTable(list = runs()) {
  return mount(RunComparison, { props: { runs: list }, attachTo: document.body })
}

describe('RunComparison', () => {
  it('shows each run’s settings, time, backend and accuracy with its split', () => {
    const wrapper = mountTable()
    const cells = (key: string) =>
      wrapper.findAll(`[data-testid="comparison-${key}"]`).map((c) => c.text())
    const names = wrapper.findAll('[data-testid="comparison-name"] .cell-text').map((c) => c.text())
    expect(names).toEqual(['Fast digits', 'Letters', 'MNIST + pen digits'])
    // The dataset is also under the name, for windows too narrow for its column.
    const under = wrapper.findAll('[data-testid="comparison-name"] .run-dataset')
    expect(under.map((c) => c.text())).toEqual(['MNIST', 'my-letters', 'MNIST'])
    expect(cells('dataset')).toEqual(['MNIST', 'my-letters', 'MNIST'])
    expect(cells('preset')).toEqual(['Fast', 'Robust', 'Fast'])
    expect(cells('epochs')).toEqual(['3', '12 of 20', '10'])
    expect(cells('batchSize')).toEqual(['256', '64', '—'])
    expect(cells('learningRate')).toEqual(['0.01 one-cycle', '0.002', '—'])
    expect(cells('augmentation')).toEqual(['rotation ±8°, zoom ±8%, shift ±1.5 px', 'off', '—'])
    expect(cells('seconds')).toEqual(['1m 35s', '1h 02m', '18m 28s'])
    expect(cells('backend')).toEqual(['native', 'wasm', '—'])
    // The test split where there is one, else the evaluation on the validation split, named.
    expect(cells('accuracy')).toEqual(['99.21% test', '87.50% val', '99.24% test'])
    const accuracy = wrapper.findAll('[data-testid="comparison-accuracy"]')
    expect(accuracy[0]!.attributes('title')).toMatch(/Held-out test split/)
    expect(accuracy[1]!.attributes('title')).toMatch(/Validation split.*not a test/)
    expect(wrapper.findAll('[data-testid="comparison-backend"]')[1]!.attributes('title')).toBe(
      'wasm (SIMD, 2 threads)',
    )
    wrapper.unmount()
  })

  it('sorts by a header button, best first for numbers, reversing on a second click', async () => {
    const wrapper = mountTable()
    const names = () =>
      wrapper.findAll('[data-testid="comparison-name"] .cell-text').map((c) => c.text())
    const header = (key: string) => wrapper.get(`[data-testid="comparison-sort-${key}"]`)
    const th = (key: string) => header(key).element.closest('th')!
    expect(wrapper.findAll('thead th').every((h) => h.attributes('aria-sort') === 'none')).toBe(
      true,
    )
    expect(header('accuracy').element.tagName).toBe('BUTTON')

    await header('accuracy').trigger('click')
    expect(names()).toEqual(['MNIST + pen digits', 'Fast digits', 'Letters'])
    expect(th('accuracy').getAttribute('aria-sort')).toBe('descending')
    await header('accuracy').trigger('click')
    expect(names()).toEqual(['Letters', 'Fast digits', 'MNIST + pen digits'])
    expect(th('accuracy').getAttribute('aria-sort')).toBe('ascending')

    // Unknown values go last in both directions.
    await header('batchSize').trigger('click')
    expect(names()).toEqual(['Fast digits', 'Letters', 'MNIST + pen digits'])
    expect(th('accuracy').getAttribute('aria-sort')).toBe('none')
    await header('batchSize').trigger('click')
    expect(names()).toEqual(['Letters', 'Fast digits', 'MNIST + pen digits'])

    // Text sorts A to Z first; the time by seconds, not by its text.
    await header('name').trigger('click')
    expect(names()).toEqual(['Fast digits', 'Letters', 'MNIST + pen digits'])
    expect(th('name').getAttribute('aria-sort')).toBe('ascending')
    await header('seconds').trigger('click')
    expect(names()).toEqual(['Letters', 'MNIST + pen digits', 'Fast digits'])
    wrapper.unmount()
  })

  it('compares only the ticked runs, all of them at first', async () => {
    const wrapper = mountTable()
    const names = () =>
      wrapper.findAll('[data-testid="comparison-name"] .cell-text').map((c) => c.text())
    const toggle = wrapper.get('[data-testid="comparison-picker"] button')
    expect(toggle.text()).toBe('▸ Runs compared: 3 of 3')
    expect(toggle.attributes('aria-expanded')).toBe('false')
    expect(wrapper.find('[data-testid="compare-run-folder"]').exists()).toBe(false)
    await toggle.trigger('click')
    expect(toggle.attributes('aria-expanded')).toBe('true')
    await wrapper.get('[data-testid="compare-run-folder"]').setValue(false)
    expect(names()).toEqual(['Fast digits', 'MNIST + pen digits'])
    expect(toggle.text()).toBe('▾ Runs compared: 2 of 3')
    const buttons = wrapper.findAll('[data-testid="comparison-picker"] button')
    await buttons.find((b) => b.text() === 'None')!.trigger('click')
    expect(wrapper.find('[data-testid="comparison-table"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('Tick the runs to compare')
    await buttons.find((b) => b.text() === 'All')!.trigger('click')
    expect(names()).toHaveLength(3)

    // A run that appears later is compared too.
    await wrapper.get('[data-testid="compare-run-fast"]').setValue(false)
    await wrapper.setProps({ runs: [makeRun({ id: 'new', name: 'Newest' }), ...runs()] })
    expect(names()).toEqual(['Newest', 'Letters', 'MNIST + pen digits'])
    wrapper.unmount()
  })
})
