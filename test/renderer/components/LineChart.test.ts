import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import LineChart from '@renderer/components/LineChart.vue'
import { letChartsLayOut, xTicks } from '../helpers/chartCanvas'

describe('LineChart', () => {
  beforeEach(() => letChartsLayOut())
  afterEach(() => vi.restoreAllMocks())

  const epochs = (n: number) => [
    {
      label: 'Train loss',
      data: Array.from({ length: n }, (_, i) => ({ x: i + 1, y: 1 / (i + 1) })),
      color: '#000',
    },
  ]

  it.each([1, 2, 3, 7, 40])('labels an axis of %i epochs with whole epochs only', (n) => {
    const wrapper = mount(LineChart, {
      props: { label: 'Loss per epoch', xLabel: 'epoch', xInteger: true, series: epochs(n) },
      attachTo: document.body,
    })
    const ticks = xTicks(wrapper.get('canvas').element)
    expect(ticks.length).toBeGreaterThanOrEqual(2)
    expect(ticks.every(Number.isInteger), `ticks ${ticks.join(', ')}`).toBe(true)
    expect(Math.min(...ticks)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(n)
    wrapper.unmount()
  })
})
