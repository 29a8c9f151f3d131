import type { RunState } from '@shared/schemas'

/** States in which a run still owns the engine. */
export const ACTIVE_STATES: readonly RunState[] = ['starting', 'running', 'paused']

export function isActiveState(state: RunState | 'idle'): boolean {
  return state !== 'idle' && ACTIVE_STATES.includes(state)
}

const LABELS: Record<RunState, string> = {
  starting: 'Starting',
  running: 'Training',
  paused: 'Paused',
  completed: 'Completed',
  'early-stopped': 'Stopped early',
  cancelled: 'Stopped',
  diverged: 'Diverged',
  failed: 'Failed',
}

/** Short label for a run state. */
export function runStateLabel(state: RunState | 'idle'): string {
  return state === 'idle' ? 'Idle' : LABELS[state]
}

/** The sentence shown when a run ends. */
export function finalStateMessage(state: RunState, message?: string): string | null {
  switch (state) {
    case 'completed':
      return message ? `Training completed. ${message}` : 'Training completed.'
    case 'early-stopped':
      return message
        ? /^stopped early/i.test(message)
          ? `S${message.slice(1)}`
          : `Stopped early: ${message}`
        : 'Stopped early: validation loss stopped improving. The best epoch was kept.'
    case 'cancelled':
      // The services say what a stopped run kept (the best epoch's weights, or nothing).
      return message ?? 'Stopped.'
    case 'diverged':
      return `Training diverged: ${message ?? 'the loss became NaN or exploded.'}`
    case 'failed':
      return `Training failed: ${message ?? 'unknown error.'}`
    default:
      return null
  }
}
