import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { useDatasetStore } from '@renderer/stores/dataset'
import DataView from '@renderer/views/DataView.vue'
import { makeDataset, makeSample } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

describe('DataView', () => {
  it('shows class counts, samples and the skipped files with their reasons', async () => {
    const { pinia } = setupFake({
      'dataset.list': () => [
        makeDataset({
          skipped: [
            { file: 'a/broken.png', reason: 'not a PNG: bad signature' },
            { file: 'notes.txt', reason: 'unsupported file type .txt' },
          ],
        }),
      ],
      'dataset.samples': ({ label }) => [makeSample(1, label ?? 0), makeSample(2, label ?? 0)],
    })
    await useDatasetStore().refresh()
    const wrapper = mount(DataView, { global: { plugins: [pinia] } })
    await settle()

    const skipped = wrapper.get('[data-testid="skipped-files"]')
    expect(skipped.text()).toContain('a/broken.png')
    expect(skipped.text()).toContain('not a PNG: bad signature')
    expect(skipped.text()).toContain('unsupported file type .txt')
    expect(wrapper.get('[data-testid="class-counts"]').findAll('li')).toHaveLength(3)
    expect(wrapper.get('[data-testid="samples-grid"]').findAll('canvas')).toHaveLength(6)
  })

  it('says how the test split was made, and renames and deletes the dataset', async () => {
    const { fake, pinia } = setupFake({
      'dataset.list': () => [
        makeDataset({
          source: { kind: 'folder', path: '/data/letters', test: { fraction: 0.15 } },
        }),
      ],
      'dataset.samples': () => [],
      'dataset.rename': ({ datasetId, name }) => makeDataset({ id: datasetId, name }),
      'dataset.delete': () => ({ ok: true }),
    })
    await useDatasetStore().refresh()
    const wrapper = mount(DataView, { global: { plugins: [pinia] }, attachTo: document.body })
    await settle()
    expect(wrapper.get('[data-testid="dataset-splits"]').text()).toMatch(
      /30 training \/ 7 test images · 15% of each class held out for testing/,
    )
    await wrapper.get('[data-testid="dataset-rename"]').trigger('click')
    await settle()
    const input = wrapper.get('[data-testid="dataset-rename-input"]')
    await input.setValue('Handwriting')
    await input.trigger('submit')
    await settle()
    expect(fake.callsTo('dataset.rename')).toEqual([{ datasetId: 'ds-1', name: 'Handwriting' }])
    expect(wrapper.get('.dataset-title h2').text()).toBe('Handwriting')
    await wrapper.get('[data-testid="dataset-delete"]').trigger('click')
    await wrapper.get('[data-testid="dataset-delete-confirm"]').trigger('click')
    await settle()
    expect(fake.callsTo('dataset.delete')).toEqual([{ datasetId: 'ds-1' }])
    expect(wrapper.text()).toContain('No datasets yet')
    wrapper.unmount()
  })

  it('says what InkLab’s copy changed, and the corrections a refresh left unapplied', async () => {
    const { pinia } = setupFake({
      'dataset.list': () => [
        makeDataset({ edits: { drawn: 2, relabelled: 1, excluded: 0, stale: 3 } }),
      ],
      'dataset.samples': () => [],
    })
    await useDatasetStore().refresh()
    const wrapper = mount(DataView, { global: { plugins: [pinia] } })
    await settle()
    expect(wrapper.get('[data-testid="dataset-edits"]').text()).toBe(
      "In InkLab's copy: 2 drawings added · 1 relabelled · 3 older corrections left out, as a " +
        'refresh may have moved the images (your files are untouched)',
    )
  })

  it('imports a typed folder path and shows progress with Cancel', async () => {
    const { fake, pinia } = setupFake({
      'dataset.importFolder': () => new Promise(() => {}),
      'dataset.cancelImport': () => ({ cancelled: true }),
    })
    const wrapper = mount(DataView, { global: { plugins: [pinia] } })
    await settle()
    expect(wrapper.text()).toContain('No datasets yet')
    const picker = wrapper.get('[data-testid="folder-picker"]')
    await picker.get('input').setValue('/data/mine')
    await picker.trigger('submit')
    fake.emit('dataset.progress', { phase: 'decoding', done: 3, total: 4 })
    await settle()
    expect(fake.callsTo('dataset.importFolder')).toEqual([
      { path: '/data/mine', test: { fraction: 0.15 } },
    ])
    expect(wrapper.get('[data-testid="import-progress"]').attributes('aria-valuenow')).toBe('75')
    await wrapper.get('[data-testid="cancel-import"]').trigger('click')
    expect(fake.callsTo('dataset.cancelImport')).toHaveLength(1)
  })

  it('wraps skipped paths at folder boundaries, and names long classes in a tooltip', async () => {
    const { pinia } = setupFake({
      'dataset.list': () => [
        makeDataset({
          labels: ['a', 'circle', 'a-very-long-class-name'],
          skipped: [{ file: 'cross/deeper/notes.txt', reason: 'unsupported file type .txt' }],
        }),
      ],
      'dataset.samples': ({ label }) => [makeSample(1, label ?? 0)],
    })
    await useDatasetStore().refresh()
    const wrapper = mount(DataView, { global: { plugins: [pinia] } })
    await settle()

    const cell = wrapper.get('[data-testid="skipped-files"] td.skipped-file')
    expect(cell.text()).toBe('cross/deeper/notes.txt')
    // A break opportunity after each separator, none inside a name.
    const parts = [...cell.element.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim())
      .map((n) => n.textContent!.trim())
    expect(parts).toEqual(['cross/', 'deeper/', 'notes.txt'])
    expect(cell.findAll('wbr')).toHaveLength(3)

    const labels = wrapper.findAll('[data-testid="samples-grid"] .samples-label')
    expect(labels.map((l) => l.text())).toEqual(['a', 'circle', 'a-very-long-class-name'])
    expect(labels.map((l) => l.attributes('title'))).toEqual([
      undefined,
      undefined,
      'a-very-long-class-name',
    ])
  })
})
