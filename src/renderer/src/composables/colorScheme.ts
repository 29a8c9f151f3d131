import { onBeforeUnmount, ref, type Ref } from 'vue'

/** True while the system prefers a dark theme; follows changes while the component lives. */
export function usePrefersDark(): Ref<boolean> {
  const dark = ref(false)
  const query =
    typeof globalThis.matchMedia === 'function'
      ? globalThis.matchMedia('(prefers-color-scheme: dark)')
      : null
  if (!query) return dark
  dark.value = query.matches
  const onChange = (event: MediaQueryListEvent) => (dark.value = event.matches)
  query.addEventListener?.('change', onChange)
  onBeforeUnmount(() => query.removeEventListener?.('change', onChange))
  return dark
}
