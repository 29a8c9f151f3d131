/** Anything indexable and writable, such as an array or a typed array. */
export interface MutableArrayLike<T> {
  length: number
  [index: number]: T
}

/** A seeded pseudo-random number generator. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<A extends MutableArrayLike<unknown>>(array: A): A
}

/** Creates a deterministic PRNG (mulberry32) from an integer seed. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  const shuffle = <A extends MutableArrayLike<unknown>>(array: A): A => {
    for (let i = array.length - 1; i > 0; i--) {
      const j = int(i + 1)
      const tmp = array[i]
      array[i] = array[j]
      array[j] = tmp
    }
    return array
  }
  return { next, int, shuffle }
}
