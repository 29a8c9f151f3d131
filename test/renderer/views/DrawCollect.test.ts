import type { RouteInput } from '@shared/contract'
import type { DatasetSummary } from '@shared/schemas'
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { useAppStore } from '@renderer/stores/app'
import { useCollectStore } from '@renderer/stores/collect'
import { useDatasetStore } from '@renderer/stores/dataset'
import { useModelsStore } from '@renderer/stores/models'
import DrawView from '@renderer/views/DrawView.vue'
import { BLANK_PIXELS, makeDataset, makeRun } from '../helpers/fixtures'
import { stroke } from '../helpers/pointer'
import { settle, setupFake } from '../helpers/setup'

function key(init: KeyboardEventInit, target: EventTarget = document): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init }))
}

/** A drawn dataset whose counts follow the fake's saves and undos. */
function drawnDataset() {
  const summary: DatasetSummary = makeDataset({
    id: 'drawn-1',
    name: 'My letters',
    source: { kind: 'drawn' },
    labels: [],
    trainCounts: [],
    testCounts: undefined,
    trainSize: 0,
    testSize: 0,
  })
  const saved: RouteInput<'collection.add'>[] = []
  const recount = (): DatasetSummary => {
    const labels = [...new Set(saved.map((s) => s.label))]
    return {
      ...summary,
      labels,
      trainCounts: labels.map((l) => saved.filter((s) => s.label === l).length),
      trainSize: saved.length,
    }
  }
  return {
    summary,
    saved,
    handlers: {
      'dataset.list': () => [recount()],
      'collection.add': (input: RouteInput<'collection.add'>) => {
        saved.push(input)
        return {
          summary: recount(),
          sample: {
            key: `d-${saved.length.toString(16).padStart(8, '0')}`,
            label: input.label,
            pixels: BLANK_PIXELS,
          },
        }
      },
      'collection.undo': () => {
        const removed = saved.pop()
        return {
          summary: recount(),
          removed: removed ? { key: 'd-00000001', label: removed.label } : null,
        }
      },
    },
  }
}

describe('DrawView, collecting', () => {
  it('the keyboard flow: a key names the label, Enter saves the drawing with its ink and clears the pad, Ctrl+Z on an empty pad undoes the save', async () => {
    const drawn = drawnDataset()
    const { fake, pinia } = setupFake(drawn.handlers)
    await useDatasetStore().refresh()
    useCollectStore().mode = 'collect'
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    expect(
      (wrapper.get('[data-testid="collect-dataset"]').element as HTMLSelectElement).value,
    ).toBe('drawn-1')

    key({ key: 'b' })
    await settle()
    expect((wrapper.get('[data-testid="collect-label"]').element as HTMLInputElement).value).toBe(
      'b',
    )
    const pad = wrapper.get('[data-testid="draw-pad"]').element
    stroke(pad, [
      [60, 50],
      [150, 55],
      [120, 230],
    ])
    stroke(pad, [[200, 200]])
    await settle()
    expect(fake.callsTo('draw.classify'), 'collecting does not classify').toHaveLength(0)
    key({ key: 'Enter' })
    await settle()

    expect(drawn.saved).toHaveLength(1)
    const [save] = drawn.saved
    expect(save).toMatchObject({ datasetId: 'drawn-1', label: 'b' })
    expect(save!.image).toMatchObject({ width: 280, height: 280 })
    expect(atob(save!.image.data)).toHaveLength(280 * 280)
    // The raw ink goes with it: two strokes, in pad pixels, in the order drawn.
    expect(save!.ink.padSize).toBe(280)
    expect(save!.ink.strokes.map((s) => s.points.length)).toEqual([3, 1])
    expect(save!.ink.strokes[0]!.points[0]).toEqual([60, 50, 1])
    expect(save!.ink.strokes[0]!.width).toBe(18)
    expect(
      wrapper.get('[data-testid="draw-clear"]').attributes('disabled'),
      'pad cleared',
    ).toBeDefined()
    expect(wrapper.get('[data-testid="collect-status"]').text()).toContain('Saved “b”: 1 of 20')
    expect(wrapper.get('[data-testid="collect-counts"]').text()).toMatch(/b\s*1\/20/)
    expect(wrapper.findAll('[data-testid="collect-recent"] canvas')).toHaveLength(1)

    // Enter on an empty pad saves nothing.
    key({ key: 'Enter' })
    await settle()
    expect(drawn.saved).toHaveLength(1)

    // Ctrl+Z with ink undoes a stroke; on an empty pad, the last save.
    stroke(pad, [[100, 100]])
    await settle()
    key({ key: 'z', ctrlKey: true })
    await settle()
    expect(fake.callsTo('collection.undo')).toHaveLength(0)
    key({ key: 'z', ctrlKey: true })
    await settle()
    expect(fake.callsTo('collection.undo')).toEqual([{ datasetId: 'drawn-1' }])
    expect(drawn.saved).toHaveLength(0)
    expect(wrapper.findAll('[data-testid="collect-recent"] canvas')).toHaveLength(0)
    wrapper.unmount()
  })

  it('typing in the label field is not a shortcut, and Enter there saves', async () => {
    const drawn = drawnDataset()
    const { pinia } = setupFake(drawn.handlers)
    await useDatasetStore().refresh()
    useCollectStore().mode = 'collect'
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    const label = wrapper.get('[data-testid="collect-label"]')
    await label.setValue('alpha')
    key({ key: 'x' }, label.element)
    await settle()
    expect((label.element as HTMLInputElement).value).toBe('alpha')
    stroke(wrapper.get('[data-testid="draw-pad"]').element, [
      [60, 60],
      [200, 200],
    ])
    await settle()
    await label.trigger('keydown', { key: 'Enter' })
    await settle()
    expect(drawn.saved.map((s) => s.label)).toEqual(['alpha'])
    wrapper.unmount()
  })

  it('without a drawn dataset it offers to create one, and says when a class is too small to train', async () => {
    const drawn = drawnDataset()
    const { fake, pinia } = setupFake({
      ...drawn.handlers,
      'dataset.list': () => [],
      'collection.create': ({ name }) => ({ ...drawn.summary, name }),
    })
    await useDatasetStore().refresh()
    useCollectStore().mode = 'collect'
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    await wrapper.get('[data-testid="collect-new-name"]').setValue('Shapes')
    await wrapper.get('form.new-dataset').trigger('submit')
    await settle()
    expect(fake.callsTo('collection.create')).toEqual([{ name: 'Shapes' }])
    expect(useCollectStore().datasetId).toBe('drawn-1')
    const pad = wrapper.get('[data-testid="draw-pad"]').element
    for (const label of ['a', 'a', 'b']) {
      key({ key: label })
      stroke(pad, [
        [60, 60],
        [200, 200],
      ])
      await settle()
      key({ key: 'Enter' })
      await settle()
    }
    expect(wrapper.get('[data-testid="collect-readiness"]').text()).toMatch(/Not ready to train/)
    expect(wrapper.get('[data-testid="collect-train"]').attributes('disabled')).toBeDefined()
    wrapper.unmount()
  })

  it('a wrong prediction is added with the right label to the model’s dataset, then fine-tuned', async () => {
    const { fake, pinia } = setupFake({
      'runs.list': () => [makeRun({ id: 'run-1', name: 'Mine', active: true, datasetId: 'ds-1' })],
      'dataset.list': () => [makeDataset()],
      'draw.classify': () => ({
        prediction: { label: 'a', index: 0, confidence: 0.9, top: [{ label: 'a', p: 0.9 }] },
        input: BLANK_PIXELS,
        empty: false,
        modelId: 'run-1',
      }),
      'collection.add': ({ label }) => ({
        summary: makeDataset({ trainCounts: [10, 13, 8] }),
        sample: { key: 'd-0123456789ab', label, pixels: BLANK_PIXELS },
      }),
      'training.fineTune': () => ({ runId: 'run-2' }),
      'training.current': () => null,
    })
    await Promise.all([useModelsStore().refresh(), useDatasetStore().refresh()])
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    stroke(wrapper.get('[data-testid="draw-pad"]').element, [
      [60, 60],
      [200, 200],
    ])
    await settle()
    await wrapper.get('[data-testid="correct-open"]').trigger('click')
    expect(
      (wrapper.get('[data-testid="correct-dataset"]').element as HTMLSelectElement).value,
      "the active model's dataset",
    ).toBe('ds-1')
    await wrapper.get('[data-testid="correct-label"]').setValue('b')
    await wrapper.get('.correct-form').trigger('submit')
    await settle()
    const [added] = fake.callsTo('collection.add')
    expect(added).toMatchObject({ datasetId: 'ds-1', label: 'b' })
    expect(added!.ink.strokes).toHaveLength(1)
    expect(useDatasetStore().datasets[0]!.trainCounts).toEqual([10, 13, 8])
    expect(wrapper.get('[data-testid="correct-done"]').text()).toContain(
      'Added to “Letters” as “b”',
    )

    await wrapper.get('[data-testid="correct-fine-tune"]').trigger('click')
    await settle()
    expect(fake.callsTo('training.fineTune')).toEqual([{ runId: 'run-1', datasetId: 'ds-1' }])
    expect(useAppStore().view).toBe('train')
    wrapper.unmount()
  })
})
