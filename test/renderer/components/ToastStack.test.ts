import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import App from '@renderer/App.vue'
import ToastStack from '@renderer/components/ToastStack.vue'
import { MAX_VISIBLE_TOASTS, useAppStore } from '@renderer/stores/app'
import { settle, setupFake } from '../helpers/setup'

describe('ToastStack', () => {
  it('shows the newest few toasts, counts the rest, and dismisses them all', async () => {
    const { pinia } = setupFake()
    const app = useAppStore()
    const wrapper = mount(ToastStack, { global: { plugins: [pinia] } })
    for (const name of ['a', 'b', 'c', 'd', 'e']) app.notifyError(new Error(`${name} failed`))
    app.notifyError(new Error('e failed'))
    await settle()

    const toasts = wrapper.findAll('[data-testid="toast"]')
    expect(toasts).toHaveLength(MAX_VISIBLE_TOASTS)
    expect(toasts.map((t) => t.get('.toast-message').text())).toEqual([
      'c failed',
      'd failed',
      'e failed',
    ])
    expect(toasts[2]!.get('[data-testid="toast-count"]').text()).toBe('×2')
    expect(toasts[0]!.find('[data-testid="toast-count"]').exists()).toBe(false)
    expect(toasts.every((t) => t.attributes('role') === 'alert')).toBe(true)
    expect(wrapper.get('[data-testid="toast-more"]').text()).toContain('2 more')

    await toasts[2]!.get('button[aria-label="Dismiss"]').trigger('click')
    expect(wrapper.findAll('.toast-message').map((t) => t.text())).toEqual([
      'b failed',
      'c failed',
      'd failed',
    ])
    await wrapper.get('[data-testid="toast-more"] button').trigger('click')
    expect(wrapper.findAll('[data-testid="toast"]')).toHaveLength(0)
    expect(wrapper.find('[data-testid="toast-more"]').exists()).toBe(false)
  })

  it('sits in the shell layout under the main area, not over it', async () => {
    const { pinia } = setupFake()
    const wrapper = mount(App, { global: { plugins: [pinia] } })
    await settle()
    const stack = wrapper.get('[data-testid="toast-stack"]')
    // A sibling of <main> in the shell grid (its own row), never inside or floating over it.
    expect(stack.element.parentElement).toBe(wrapper.get('.shell').element)
    expect(stack.classes()).toContain('shell-toasts')
    wrapper.unmount()
  })
})
