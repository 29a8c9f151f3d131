import { ref, type Ref } from 'vue'

/** A column's sort order, in the words of `aria-sort`. */
export type SortDirection = 'ascending' | 'descending'

/** Which column a table is sorted by, and how its headers say so. */
export interface TableSort<K extends string> {
  key: Ref<K | null>
  direction: Ref<SortDirection>
  /** A header click: the same column again reverses; another starts in its first direction. */
  sortBy: (key: K) => void
  /** The header's `aria-sort`. */
  ariaSort: (key: K) => SortDirection | 'none'
  /** The arrow the header shows (nothing on unsorted columns). */
  arrow: (key: K) => string
}

/**
 * Sort state of a table whose headers are buttons. `firstDirection` is the order a column sorts in
 * on its first click (numbers usually best first); `initial` the column sorted before any click.
 */
export function useTableSort<K extends string>(
  firstDirection: (key: K) => SortDirection,
  initial: K | null = null,
): TableSort<K> {
  const key = ref<K | null>(initial) as Ref<K | null>
  const direction = ref<SortDirection>(initial === null ? 'ascending' : firstDirection(initial))
  return {
    key,
    direction,
    sortBy(next) {
      if (key.value === next) {
        direction.value = direction.value === 'ascending' ? 'descending' : 'ascending'
      } else {
        key.value = next
        direction.value = firstDirection(next)
      }
    },
    ariaSort: (column) => (key.value === column ? direction.value : 'none'),
    arrow: (column) => (key.value !== column ? '' : direction.value === 'ascending' ? '▲' : '▼'),
  }
}
