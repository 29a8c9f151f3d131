// Scripts evaluated in the page. They are strings because the node-side TypeScript project has no
// DOM types; each one is small and self-contained.

/** Samples the page collects while training runs (see `INSTALL_TRAINING_PROBES`). */
export interface TrainingProbeSamples {
  /** Gaps between consecutive `setInterval(…, 50)` ticks, in ms. */
  ticks: number[]
  /** Gaps between consecutive `requestAnimationFrame` callbacks, in ms. */
  frames: number[]
  /** `performance.now()` of the click on Start training. */
  clickAt: number | null
  /** `performance.now()` when the loss chart first showed a data point. */
  firstPointAt: number | null
}

/**
 * Installs, in the page:
 * - a lag probe: a 50 ms `setInterval` and a `requestAnimationFrame` loop recording the gap between
 *   consecutive callbacks (a frozen main thread shows up as a long gap);
 * - a click listener (capture phase) that stamps the click on `start-training`;
 * - a MutationObserver that stamps the first moment the loss chart has data. The observable is the
 *   chart canvas's `aria-label`: LineChart sets it to "<label>. No data yet." while every series is
 *   empty and to "<label>. <series>: <latest value>, …" as soon as one has a point, in the same
 *   update that hands the points to Chart.js (which draws synchronously, animations off).
 */
export const INSTALL_TRAINING_PROBES = `(() => {
  const probe = { ticks: [], frames: [], clickAt: null, firstPointAt: null, running: true }
  window.__inklabE2e = probe
  let lastTick = performance.now()
  probe.interval = setInterval(() => {
    const now = performance.now()
    probe.ticks.push(now - lastTick)
    lastTick = now
  }, 50)
  let lastFrame = performance.now()
  const frame = () => {
    if (!probe.running) return
    const now = performance.now()
    probe.frames.push(now - lastFrame)
    lastFrame = now
    requestAnimationFrame(frame)
  }
  requestAnimationFrame(frame)
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null
    if (probe.clickAt === null && target && target.closest('[data-testid="start-training"]')) {
      probe.clickAt = performance.now()
    }
  }, true)
  const hasPoint = () => {
    const canvas = document.querySelector('[data-testid="loss-chart"] canvas')
    const label = canvas ? canvas.getAttribute('aria-label') : null
    return !!label && !label.endsWith('No data yet.')
  }
  const observer = new MutationObserver(() => {
    if (probe.firstPointAt === null && probe.clickAt !== null && hasPoint()) {
      probe.firstPointAt = performance.now()
      observer.disconnect()
    }
  })
  observer.observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label'],
  })
})()`

/** True once the first chart point was seen. */
export const FIRST_POINT_SEEN = `window.__inklabE2e && window.__inklabE2e.firstPointAt !== null`

/** Stops the lag probe and returns everything it collected (`TrainingProbeSamples`). */
export const STOP_TRAINING_PROBES = `(() => {
  const probe = window.__inklabE2e
  probe.running = false
  clearInterval(probe.interval)
  return { ticks: probe.ticks, frames: probe.frames, clickAt: probe.clickAt, firstPointAt: probe.firstPointAt }
})()`

/**
 * Watches for the import progress bar: `window.__inklabImport` records whether it appeared and the
 * largest `aria-valuenow` it showed (imports of small folders can finish between two polls).
 */
export const WATCH_IMPORT_PROGRESS = `(() => {
  const seen = { appeared: false, maxValue: null }
  window.__inklabImport = seen
  const check = () => {
    const bar = document.querySelector('[data-testid="import-progress"]')
    if (!bar) return
    seen.appeared = true
    const value = Number(bar.getAttribute('aria-valuenow'))
    if (bar.hasAttribute('aria-valuenow') && Number.isFinite(value)) {
      seen.maxValue = Math.max(seen.maxValue ?? 0, value)
    }
  }
  new MutationObserver(check).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'],
  })
})()`

/** What `WATCH_IMPORT_PROGRESS` saw. */
export const IMPORT_PROGRESS_SEEN = `window.__inklabImport`

/** A PNG data URL of the canvas inside the element with this test id (or null). */
export function canvasSnapshot(testid: string): string {
  return `(() => {
    const canvas = document.querySelector('[data-testid="${testid}"] canvas')
    return canvas ? canvas.toDataURL() : null
  })()`
}

/**
 * Texts of the status bar items (other than the backend, which may shorten with an ellipsis) that
 * are cut off: wider than their box, or past the bar's right edge. Empty when everything fits.
 */
export const CLIPPED_STATUS_ITEMS = `(() => {
  const bar = document.querySelector('.statusbar')
  if (!bar) return ['(no status bar)']
  const right = bar.getBoundingClientRect().right
  const clipped = []
  for (const item of bar.querySelectorAll('.status-item:not(.backend)')) {
    const cut = [item, ...item.querySelectorAll('*')].some((el) => el.scrollWidth > el.clientWidth + 1)
    if (cut || item.getBoundingClientRect().right > right + 0.5) clipped.push(item.textContent.trim())
  }
  return clipped
})()`

/**
 * Layout problems of the Data view: a class name that overflows its column or touches its first
 * sample image, and a skipped file name broken over lines although it is short enough for one.
 */
export const DATA_LAYOUT_PROBLEMS = `(() => {
  const problems = []
  for (const row of document.querySelectorAll('[data-testid="samples-grid"] .samples-row')) {
    const label = row.querySelector('.samples-label')
    const image = row.querySelector('canvas')
    if (!label || !image) continue
    const name = label.textContent.trim()
    if (name.length <= 12 && label.scrollWidth > label.clientWidth + 1)
      problems.push('class "' + name + '" overflows its label column')
    if (label.getBoundingClientRect().right + 4 > image.getBoundingClientRect().left)
      problems.push('class "' + name + '" touches its first sample')
  }
  for (const cell of document.querySelectorAll('[data-testid="skipped-files"] td.skipped-file')) {
    const range = document.createRange()
    range.selectNodeContents(cell)
    const lines = new Set(
      [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)),
    )
    const name = cell.textContent.trim()
    if (name.length <= 30 && lines.size > 1)
      problems.push('skipped file "' + name + '" is broken over ' + lines.size + ' lines')
  }
  return problems
})()`

/**
 * How far apart (px) the baselines of the Draw view's model pill label ("Model") and model name
 * are; null when the pill is not there. A zero-height inline-block sits on its line's baseline.
 */
export const MODEL_PILL_BASELINE_GAP = `(() => {
  const pill = document.querySelector('[data-testid="active-model"]')
  const label = pill && pill.querySelector('span')
  const name = pill && pill.querySelector('strong')
  if (!label || !name) return null
  const baseline = (el) => {
    const marker = document.createElement('span')
    marker.style.cssText = 'display:inline-block;width:0;height:0;vertical-align:baseline'
    el.appendChild(marker)
    const top = marker.getBoundingClientRect().top
    marker.remove()
    return top
  }
  return Math.abs(baseline(label) - baseline(name))
})()`

/**
 * Layout problems of the Models list: a table wider than its card (scrolling sideways, the actions
 * out of sight), or a cell text (name, dataset, preset, date…) wrapped onto a second line.
 */
export const MODELS_TABLE_PROBLEMS = `(() => {
  const table = document.querySelector('[data-testid="runs-table"]')
  if (!table) return ['(no runs table)']
  const problems = []
  const box = table.parentElement
  if (box.scrollWidth > box.clientWidth + 1)
    problems.push('the table is ' + box.scrollWidth + 'px wide in ' + box.clientWidth + 'px')
  const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT)
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue
    const range = document.createRange()
    range.selectNodeContents(node)
    const tops = new Set(
      [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)),
    )
    if (tops.size > 1) problems.push('"' + node.textContent.trim() + '" wraps')
  }
  return problems
})()`

/**
 * Problems of the run comparison table on Models: it must be there (the story has two runs), fit
 * its box without a sideways scroll, and show each header whole, as a button in a cell with
 * `aria-sort`.
 */
export const COMPARISON_TABLE_PROBLEMS = `(() => {
  const table = document.querySelector('[data-testid="comparison-table"]')
  if (!table) return ['(no comparison table)']
  const problems = []
  const box = table.parentElement
  if (box.scrollWidth > box.clientWidth + 1)
    problems.push('the comparison table is ' + box.scrollWidth + 'px wide in ' + box.clientWidth + 'px')
  for (const th of table.querySelectorAll('thead th')) {
    if (getComputedStyle(th).display === 'none') continue
    const button = th.querySelector('button')
    const label = th.textContent.trim()
    if (!button) problems.push('header "' + label + '" is not a button')
    if (!th.hasAttribute('aria-sort')) problems.push('header "' + label + '" has no aria-sort')
    const cell = th.getBoundingClientRect()
    const r = button ? button.getBoundingClientRect() : cell
    if (r.right > cell.right + 0.5 || r.left < cell.left - 0.5)
      problems.push('header "' + label + '" is wider than its column')
  }
  return problems
})()`

/**
 * Whether the drawing pad shows no ink: every pixel of its canvas white. The pad repaints on the
 * next animation frame, so poll this after a Clear rather than reading the canvas at once.
 */
export const PAD_IS_BLANK = `(() => {
  const canvas = document.querySelector('[data-testid="draw-pad"]')
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height)
  return data.every((v) => v === 255)
})()`

/**
 * Layout problems of the view on screen, for a small window: empty when
 * - neither the page nor the view's scroll area scrolls sideways, and no box inside does either;
 * - the page itself does not scroll down (the views scroll inside the shell);
 * - nothing inside a card sticks out past the card's left or right edge (a badge, a table);
 * - every control (button, field, link) can be brought into the window by scrolling, lies fully
 *   inside it then, and is the topmost thing at its centre (nothing, such as a toast, covers it).
 * It scrolls the view to reach the controls, then back to the top.
 */
export const LAYOUT_PROBLEMS = `(() => {
  const problems = []
  const vw = document.documentElement.clientWidth
  const vh = document.documentElement.clientHeight
  const name = (el) => {
    const text = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 40)
    const id = el.getAttribute('data-testid')
    return el.tagName.toLowerCase() + (id ? '[' + id + ']' : '') + (text ? ' "' + text + '"' : '')
  }
  // Laid out and painted: the content of a closed <details> keeps its boxes but is not shown.
  const shown = (el) => {
    const r = el.getBoundingClientRect()
    return el.getClientRects().length > 0 && r.width > 1 && r.height > 1 &&
      getComputedStyle(el).visibility !== 'hidden' && el.checkVisibility()
  }
  const page = document.scrollingElement
  if (page.scrollWidth > page.clientWidth + 1)
    problems.push('the page scrolls sideways: ' + page.scrollWidth + 'px in ' + page.clientWidth + 'px')
  // The views scroll inside the shell; a page taller than the window (an element placed outside
  // the shell, such as a visually hidden label positioned against the page) moves the whole app.
  if (page.scrollHeight > page.clientHeight + 1)
    problems.push('the page scrolls down: ' + page.scrollHeight + 'px in ' + page.clientHeight + 'px')
  for (const el of document.querySelectorAll('body *')) {
    const x = getComputedStyle(el).overflowX
    if ((x === 'auto' || x === 'scroll') && el.scrollWidth > el.clientWidth + 1)
      problems.push(name(el) + ' (' + el.className + ') scrolls sideways: ' + el.scrollWidth + 'px in ' + el.clientWidth + 'px')
  }
  for (const card of document.querySelectorAll('.card')) {
    const box = card.getBoundingClientRect()
    for (const el of card.querySelectorAll('*')) {
      if (!shown(el)) continue
      let clipped = false
      for (let p = el.parentElement; p && p !== card; p = p.parentElement)
        if (getComputedStyle(p).overflowX !== 'visible') { clipped = true; break }
      if (clipped) continue
      const r = el.getBoundingClientRect()
      if (r.right > box.right + 0.5 || r.left < box.left - 0.5)
        problems.push(name(el) + ' sticks out of its card (' + Math.round(r.left) + '..' + Math.round(r.right) +
          ' in ' + Math.round(box.left) + '..' + Math.round(box.right) + ')')
    }
  }
  const controls = document.querySelectorAll(
    'button, select, textarea, a[href], input:not([type="hidden"])')
  for (const el of controls) {
    if (!shown(el) || el.closest('.sr-only')) continue
    el.scrollIntoView({ block: 'center', inline: 'center' })
    const r = el.getBoundingClientRect()
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) {
      problems.push(name(el) + ' cannot be scrolled fully into the window (' +
        [r.left, r.top, r.right, r.bottom].map(Math.round).join(',') + ' in ' + vw + 'x' + vh + ')')
      continue
    }
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
    if (!hit || !(el === hit || el.contains(hit) || (el.labels && [...el.labels].some((l) => l.contains(hit)))))
      problems.push(name(el) + ' is covered by ' + (hit ? name(hit) : 'nothing'))
  }
  const main = document.querySelector('.shell-main')
  if (main) main.scrollTo(0, 0)
  return problems
})()`

/**
 * The confusion matrix's column headers, and how many of them are fully visible in its box
 * without scrolling it (all of them when the matrix fits).
 */
export const MATRIX_COLUMNS_VISIBLE = `(() => {
  const table = document.querySelector('[data-testid="confusion-matrix"]')
  if (!table) return { columns: 0, visible: 0 }
  const box = table.parentElement.getBoundingClientRect()
  const heads = [...table.querySelectorAll('thead th')]
  const visible = heads.filter((th) => {
    const r = th.getBoundingClientRect()
    return r.left >= box.left - 0.5 && r.right <= box.right + 0.5
  })
  return { columns: heads.length, visible: visible.length }
})()`
