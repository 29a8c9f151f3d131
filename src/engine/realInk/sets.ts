import type { PenCollection, PenSample } from './trajectories'

/** A benchmark set: which pen collection, which of its classes, in the model's class order. */
export interface InkSet {
  collection: PenCollection
  labels: string[]
  description: string
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
const CAPITALS = Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i))

/** The real-ink benchmark sets. */
export const INK_SETS = {
  digits: {
    collection: 'pendigits',
    labels: DIGITS,
    description: 'pendigits: digits 0-9 by 30 writers (Alpaydin and Alimoglu, UCI, CC BY 4.0)',
  },
  letters: {
    collection: 'ujipenchars',
    labels: CAPITALS,
    description:
      'UJI Pen Characters: capitals A-Z by 11 writers, 2 each (Prat et al., UCI, CC BY 4.0)',
  },
} as const satisfies Record<string, InkSet>
export type InkSetName = keyof typeof INK_SETS

/**
 * The pendigits writers held out of every InkLab training: ids divisible by 3 (10 of 30). The
 * bundled model may train on the other 20; its real-ink figures are on these only.
 */
export function isHeldOutPenWriter(writer: string): boolean {
  const match = /^pendigits:(\d+)$/.exec(writer)
  return match !== null && Number(match[1]) % 3 === 0
}

/** The samples of `set` among `all` (its classes only). */
export function samplesOfSet(all: readonly PenSample[], set: InkSet): PenSample[] {
  const labels = new Set(set.labels)
  return all.filter((s) => labels.has(s.label))
}

/** Writers of the samples, in natural order. */
export function writersOf(samples: readonly PenSample[]): string[] {
  const collator = new Intl.Collator(undefined, { numeric: true })
  return [...new Set(samples.map((s) => s.writer))].sort((a, b) => collator.compare(a, b))
}

/**
 * Up to `perWriter` samples of each writer, spread evenly over the writer's samples (a fixed,
 * class-balanced-enough subset for CI).
 */
export function subsetPerWriter(samples: readonly PenSample[], perWriter: number): PenSample[] {
  const groups = new Map<string, PenSample[]>()
  for (const s of samples) groups.set(s.writer, [...(groups.get(s.writer) ?? []), s])
  const out: PenSample[] = []
  for (const group of groups.values()) {
    const step = Math.max(1, group.length / perWriter)
    for (let k = 0; k < Math.min(perWriter, group.length); k++)
      out.push(group[Math.floor(k * step)]!)
  }
  return out
}
