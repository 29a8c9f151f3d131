import { onBeforeUnmount, onMounted } from 'vue'

/** True when the platform's command modifier (Cmd on macOS, Ctrl elsewhere) is held. */
export function hasCommandKey(event: KeyboardEvent): boolean {
  return event.ctrlKey || event.metaKey
}

/** True when the event targets a text field, where editing keys must keep their meaning. */
export function isTextTarget(event: Event): boolean {
  const el = event.target as HTMLElement | null
  if (!el || typeof el.tagName !== 'string') return false
  const tag = el.tagName.toLowerCase()
  return (
    tag === 'textarea' ||
    tag === 'select' ||
    (tag === 'input' &&
      !['checkbox', 'radio', 'range', 'button'].includes((el as HTMLInputElement).type)) ||
    el.isContentEditable
  )
}

/** Listens to keydown on the document while the component is mounted. */
export function useKeydown(handler: (event: KeyboardEvent) => void): void {
  onMounted(() => document.addEventListener('keydown', handler))
  onBeforeUnmount(() => document.removeEventListener('keydown', handler))
}
