import { Chart } from 'chart.js'
import { vi } from 'vitest'

/**
 * A 2D context that draws nothing: enough for Chart.js to lay out its scales (happy-dom has no
 * canvas), so the tests see the ticks Chart.js itself computes.
 */
function stubContext(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const target = {
    canvas,
    measureText: (text: string) => ({ width: String(text).length * 6 }),
    getLineDash: () => [],
    createLinearGradient: () => ({ addColorStop: () => undefined }),
  } as Record<string, unknown>
  // Any other method (save, lineTo, fillText…) does nothing; properties keep what is set.
  const noop = (): undefined => undefined
  return new Proxy(target, {
    get: (t, key) =>
      typeof key !== 'string' || key in t ? t[key as string] : key === 'length' ? undefined : noop,
    set: (t, key, value) => {
      t[key as string] = value
      return true
    },
  }) as unknown as CanvasRenderingContext2D
}

/**
 * Lets Chart.js lay out its charts in happy-dom (restore with `vi.restoreAllMocks()`): canvases get
 * a stub 2D context and every element a 600x240 box.
 */
export function letChartsLayOut(): void {
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(function (
    this: HTMLCanvasElement,
  ) {
    return stubContext(this) as never
  })
  // Chart.js sizes itself to its container's box, which happy-dom does not lay out.
  vi.spyOn(Element.prototype, 'getBoundingClientRect').mockReturnValue(new DOMRect(0, 0, 600, 240))
}

/** The x-axis tick values Chart.js computed for the chart drawn on `canvas`. */
export function xTicks(canvas: Element): number[] {
  const chart = Chart.getChart(canvas as HTMLCanvasElement)
  if (!chart) throw new Error('no chart on this canvas')
  return chart.scales.x!.ticks.map((t) => t.value)
}
