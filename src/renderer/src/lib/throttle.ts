/** A function that runs at most once per interval, with the last call always delivered. */
export interface Throttled {
  (): void
  /** Runs now if a call is pending, and clears the timer. */
  flush(): void
  /** Drops a pending call. */
  cancel(): void
}

/**
 * Throttles `fn` to at most one run per `intervalMs`: the first call runs at once, later calls within
 * the interval are merged into one trailing run. The caller keeps the latest data; `fn` publishes it.
 */
export function throttle(fn: () => void, intervalMs: number): Throttled {
  let timer: ReturnType<typeof setTimeout> | null = null
  let pending = false
  let lastRun = -Infinity

  const run = () => {
    pending = false
    lastRun = Date.now()
    fn()
  }

  const throttled = (() => {
    const wait = lastRun + intervalMs - Date.now()
    if (wait <= 0 && !timer) {
      run()
      return
    }
    pending = true
    if (!timer) {
      timer = setTimeout(
        () => {
          timer = null
          if (pending) run()
        },
        Math.max(0, wait),
      )
    }
  }) as Throttled

  throttled.flush = () => {
    if (timer) clearTimeout(timer)
    timer = null
    if (pending) run()
  }
  throttled.cancel = () => {
    if (timer) clearTimeout(timer)
    timer = null
    pending = false
  }
  return throttled
}
