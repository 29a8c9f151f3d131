import type { Classification } from '@shared/contract'
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { useAppStore } from '@renderer/stores/app'
import { useModelsStore } from '@renderer/stores/models'
import DrawView from '@renderer/views/DrawView.vue'
import { BLANK_PIXELS, makeRun } from '../helpers/fixtures'
import { pointer } from '../helpers/pointer'
import { settle, setupFake } from '../helpers/setup'

/** A classification whose top label is `label` (90%), with a blank 28x28 input. */
function answer(label: string): Classification {
  return {
    prediction: { label, index: Number(label), confidence: 0.9, top: [{ label, p: 0.9 }] },
    input: BLANK_PIXELS,
    empty: false,
    modelId: 'builtin-mnist',
  }
}

describe('DrawView', () => {
  it('classifies what is drawn and shows the top prediction', async () => {
    const { fake, pinia } = setupFake({
      'draw.classify': () => ({
        prediction: {
          label: '7',
          index: 7,
          confidence: 0.982,
          top: [
            { label: '7', p: 0.982 },
            { label: '1', p: 0.01 },
          ],
        },
        input: BLANK_PIXELS,
        empty: false,
        modelId: 'builtin-mnist',
      }),
    })
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    const pad = wrapper.get('[data-testid="draw-pad"]').element

    pad.dispatchEvent(pointer('pointerdown', 60, 50))
    pad.dispatchEvent(pointer('pointermove', 150, 55))
    pad.dispatchEvent(pointer('pointermove', 200, 60))
    pad.dispatchEvent(pointer('pointermove', 120, 230))
    pad.dispatchEvent(pointer('pointerup', 120, 230))
    await settle()

    const calls = fake.callsTo('draw.classify')
    expect(calls.length).toBeGreaterThanOrEqual(1)
    const last = calls.at(-1)!
    expect(last.width).toBe(280)
    expect(last.height).toBe(280)
    const bytes = atob(last.data)
    expect(bytes.length).toBe(280 * 280)
    // Black ink on white paper: some pixels are dark, most are white.
    const dark = [...bytes].filter((c) => c.charCodeAt(0) < 128).length
    expect(dark).toBeGreaterThan(100)
    expect(dark).toBeLessThan((280 * 280) / 2)

    expect(wrapper.get('[data-testid="prediction-top"]').text()).toMatch(/^7 — 98\.2%/)
    expect(wrapper.find('[data-testid="model-input"]').exists()).toBe(true)

    await wrapper.get('[data-testid="draw-clear"]').trigger('click')
    expect(wrapper.find('[data-testid="prediction-top"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('coming back to the view shows an empty pad with no old prediction', async () => {
    const { pinia } = setupFake({
      'draw.classify': () => answer('7'),
    })
    const first = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    const pad = first.get('[data-testid="draw-pad"]').element
    pad.dispatchEvent(pointer('pointerdown', 60, 50))
    pad.dispatchEvent(pointer('pointermove', 150, 55))
    pad.dispatchEvent(pointer('pointerup', 150, 55))
    await settle()
    expect(first.get('[data-testid="prediction-top"]').text()).toContain('7')
    first.unmount()

    const again = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    expect(again.find('[data-testid="prediction-top"]').exists()).toBe(false)
    expect(again.get('[data-testid="draw-clear"]').attributes('disabled')).toBeDefined()
    again.unmount()
  })

  it('classifying a file clears the drawing, and shows the file and the 28x28 input it gave', async () => {
    const { fake, pinia } = setupFake({
      'draw.classify': () => answer('7'),
      'draw.classifyFile': () => answer('3'),
    })
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    const pad = wrapper.get('[data-testid="draw-pad"]').element
    pad.dispatchEvent(pointer('pointerdown', 60, 50))
    pad.dispatchEvent(pointer('pointermove', 150, 55))
    pad.dispatchEvent(pointer('pointerup', 150, 55))
    await settle()
    expect(wrapper.get('[data-testid="prediction-top"]').text()).toMatch(/^7/)

    const picker = wrapper.get('[data-testid="classify-file"]')
    await picker.get('input[type="text"]').setValue('/images/three.png')
    await picker.get('form').trigger('submit')
    await settle()
    expect(fake.callsTo('draw.classifyFile')).toEqual([{ path: '/images/three.png' }])
    expect(wrapper.get('[data-testid="prediction-top"]').text()).toMatch(/^3/)
    expect(wrapper.find('[data-testid="model-input"]').exists()).toBe(true)
    expect(wrapper.get('.model-input').text()).toContain('From /images/three.png')
    // The old drawing is gone: nothing to clear or undo, and it is not sent again.
    expect(wrapper.get('[data-testid="draw-clear"]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-testid="draw-undo"]').attributes('disabled')).toBeDefined()
    const padCalls = fake.callsTo('draw.classify').length
    await settle()
    expect(fake.callsTo('draw.classify')).toHaveLength(padCalls)
    expect(wrapper.get('[data-testid="prediction-top"]').text()).toMatch(/^3/)
    wrapper.unmount()
  })

  it('in a browser, classifies an image chosen or dropped: its bytes are sent', async () => {
    const { fake, pinia } = setupFake({ 'draw.classifyUpload': () => answer('4') })
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    const chosen = new File([new Uint8Array([137, 80, 78, 71])], 'four.png')
    const input = wrapper.get('[data-testid="image-input"]').element as HTMLInputElement
    Object.defineProperty(input, 'files', { value: [chosen], configurable: true })
    await wrapper.get('[data-testid="image-input"]').trigger('change')
    await settle()
    expect(fake.callsTo('draw.classifyUpload')).toEqual([{ name: 'four.png', data: 'iVBORw==' }])
    expect(wrapper.get('[data-testid="prediction-top"]').text()).toMatch(/^4/)
    expect(wrapper.get('.model-input').text()).toContain('From four.png')

    // Dropped on the card: the same, and a file that is not an image is refused at once.
    const drop = (file: File) => {
      const event = new Event('drop', { bubbles: true, cancelable: true })
      Object.defineProperty(event, 'dataTransfer', { value: { files: [file] } })
      wrapper.get('[data-testid="classify-file"]').element.dispatchEvent(event)
    }
    drop(new File(['abc'], 'notes.txt'))
    await settle()
    expect(fake.callsTo('draw.classifyUpload')).toHaveLength(1)
    expect(useAppStore().toasts.at(-1)?.message).toMatch(/notes\.txt is not an image file/)
    drop(new File(['abc'], 'nine.jpg'))
    await settle()
    expect(fake.callsTo('draw.classifyUpload').at(-1)).toMatchObject({ name: 'nine.jpg' })
    wrapper.unmount()
  })

  it('a file that cannot be classified leaves the drawing and its prediction alone', async () => {
    const { pinia } = setupFake({
      'draw.classify': () => answer('7'),
      'draw.classifyFile': () => {
        throw new Error('file not found')
      },
    })
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    const pad = wrapper.get('[data-testid="draw-pad"]').element
    pad.dispatchEvent(pointer('pointerdown', 60, 50))
    pad.dispatchEvent(pointer('pointerup', 150, 55))
    await settle()
    const picker = wrapper.get('[data-testid="classify-file"]')
    await picker.get('input[type="text"]').setValue('/images/missing.png')
    await picker.get('form').trigger('submit')
    await settle()
    expect(wrapper.get('[data-testid="draw-clear"]').attributes('disabled')).toBeUndefined()
    wrapper.unmount()
  })

  it('Ctrl+Z undoes the last stroke', async () => {
    const { fake, pinia } = setupFake({
      'draw.classify': () => ({ prediction: null, input: '', empty: true, modelId: 'm' }),
    })
    const wrapper = mount(DrawView, { global: { plugins: [pinia] }, attachTo: document.body })
    const pad = wrapper.get('[data-testid="draw-pad"]').element
    pad.dispatchEvent(pointer('pointerdown', 100, 100))
    pad.dispatchEvent(pointer('pointerup', 100, 100))
    await settle()
    expect(wrapper.get('[data-testid="draw-undo"]').attributes('disabled')).toBeUndefined()
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'z', ctrlKey: true, bubbles: true }))
    await settle()
    expect(wrapper.get('[data-testid="draw-undo"]').attributes('disabled')).toBeDefined()
    expect(fake.callsTo('draw.classify')).toHaveLength(1)
    wrapper.unmount()
  })

  it('names the model the services report as active, and marks it in the model list', async () => {
    const { pinia } = setupFake({
      'runs.list': () => [
        makeRun({ id: 'run-1', name: 'Mine', active: true }),
        makeRun({ id: 'builtin-mnist', name: 'MNIST fast', builtin: true }),
        makeRun({ id: 'run-2', name: 'Folder', metrics: { valAccuracy: 0.95 } }),
      ],
    })
    await useModelsStore().refresh()
    const wrapper = mount(DrawView, { global: { plugins: [pinia] } })
    await settle()
    expect(wrapper.get('[data-testid="active-model"] strong').text()).toBe('Mine')
    const select = wrapper.get('[data-testid="model-select"]')
    expect((select.element as HTMLSelectElement).value).toBe('run-1')
    const options = select.findAll('option').map((o) => o.text().replace(/\s+/g, ' '))
    // A figure from the validation split (a dataset without a test split) says so.
    expect(options).toEqual([
      'Choose…',
      'Mine · 99.1% · in use',
      'MNIST fast · 99.1% · built-in',
      'Folder · 95.0% val',
    ])
    wrapper.unmount()
  })
})
