import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import ConfusionMatrix from '@renderer/components/ConfusionMatrix.vue'

const three = {
  labels: ['cat', 'dog', 'eel'],
  confusion: [
    [2, 1, 0],
    [0, 2, 1],
    [1, 0, 3],
  ],
}
const two = {
  labels: ['yes', 'no'],
  confusion: [
    [4, 1],
    [0, 5],
  ],
}

describe('ConfusionMatrix', () => {
  it('keeps one cell in the tab order when a smaller matrix replaces it', async () => {
    const wrapper = mount(ConfusionMatrix, { props: three })
    await wrapper.get('[data-cell="2-2"]').trigger('click')
    expect(wrapper.get('[data-cell="2-2"]').attributes('tabindex')).toBe('0')

    await wrapper.setProps(two)
    const focusable = wrapper.findAll('[tabindex="0"]')
    expect(focusable.map((cell) => cell.attributes('data-cell'))).toEqual(['1-1'])
  })

  it('sizes every cell for the longest count, so the columns line up', () => {
    const wrapper = mount(ConfusionMatrix, {
      props: {
        labels: ['a', 'b'],
        confusion: [
          [1_130, 2],
          [0, 985],
        ],
      },
    })
    const table = wrapper.get('[data-testid="confusion-matrix"]')
    expect((table.element as HTMLElement).style.getPropertyValue('--cm-chars')).toBe('5')
    expect(wrapper.get('[data-cell="0-0"]').text()).toBe('1,130')
  })
})
