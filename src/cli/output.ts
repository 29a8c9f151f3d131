/** Where a command writes: human text to stderr (progress) and stdout (results), JSON last on stdout. */
export interface Output {
  /** True when --json was given: stdout carries only the final JSON object. */
  readonly json: boolean
  /** A progress or status line for people (stderr, so it never mixes with JSON). */
  info(line: string): void
  /** A result line for people (stdout; suppressed in JSON mode). */
  result(line: string): void
  /** The final machine-readable object: the last line of stdout. */
  emitJson(value: unknown): void
  /** A live progress line that redraws in place on a terminal. */
  progress(line: string): void
  /** Ends a live progress line so the next output starts on a fresh line. */
  endProgress(): void
}

/** Creates the output for a command run. */
export function createOutput(
  json: boolean,
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Output {
  const live = Boolean(stderr.isTTY)
  let open = false
  let lastPlain = 0
  return {
    json,
    info(line) {
      if (open) this.endProgress()
      stderr.write(`${line}\n`)
    },
    result(line) {
      if (json) return
      if (open) this.endProgress()
      stdout.write(`${line}\n`)
    },
    emitJson(value) {
      if (!json) return
      if (open) this.endProgress()
      stdout.write(`${JSON.stringify(value)}\n`)
    },
    progress(line) {
      if (live) {
        const width = Math.max(20, (stderr.columns || 100) - 1)
        stderr.write(`\r\x1b[2K${line.slice(0, width)}`)
        open = true
      } else {
        // Not a terminal (CI, a pipe): a plain line at most every 5 s keeps logs readable.
        const now = Date.now()
        if (now - lastPlain >= 5000) {
          stderr.write(`${line}\n`)
          lastPlain = now
        }
      }
    },
    endProgress() {
      if (open) stderr.write('\n')
      open = false
    },
  }
}

/** A text progress bar: `[#####.....]`. */
export function bar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0))
  const full = Math.round(f * width)
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`
}

/** Seconds as `1h02m`, `3m07s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

/** A fraction as a percentage with two decimals. */
export function percent(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(2)}%`
}
