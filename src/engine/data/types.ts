import type { DatasetEdits, DatasetSource, SkippedFile } from '@shared/schemas/dataset'

/** Side of the square images every split stores (MNIST convention). */
export const IMAGE_SIZE = 28

/** Bytes per stored image: IMAGE_SIZE * IMAGE_SIZE. */
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE

/** A grayscale image: one luma byte per pixel, row-major, 0 = black. */
export interface GrayImage {
  width: number
  height: number
  data: Uint8Array
}

/** A set of labelled 28x28 samples stored compactly. */
export interface Split {
  /** count * 784 bytes, white ink on black, 0..255. */
  images: Uint8Array
  /** One class index per sample (Uint16Array when there are more than 256 classes). */
  labels: Uint8Array | Uint16Array
  count: number
  /**
   * For a split selected from another (`selectSamples`: a validation split, a limit), the index
   * of each sample in the split of the dataset it came from, so an evaluated sample can be traced
   * back to the stored one. The splits a `Dataset` holds have none.
   */
  origin?: Uint32Array
  /**
   * The file each sample came from, relative to the imported folder with forward slashes
   * (folder imports; absent for IDX and built-in data); '' for a drawing added to the dataset.
   */
  files?: string[]
}

/** A loaded dataset: class names, a training split and an optional own test split. */
export interface Dataset {
  name: string
  labels: string[]
  train: Split
  test?: Split
  source: DatasetSource
  skipped: SkippedFile[]
  /** True when images were stored transposed (EMNIST) and were transposed back on load. */
  transposed: boolean
  /**
   * When this stored copy was imported (ISO time; a saved dataset has it): what tells an edit
   * made on this copy from one made on a copy a refresh replaced (see `rekeyEdits`).
   */
  importedAt?: string
  /**
   * Each sample's lasting key (see `SampleKeySchema`), set when an edits log was applied: the
   * samples then no longer sit at their stored index. Without it, a sample's key is its
   * `storedKey` (its file, or its position in a split without files).
   */
  keys?: { train: readonly string[]; test?: readonly string[] }
  /** What the dataset's edits log changed, when it has one. */
  edits?: DatasetEdits
  /**
   * When the edits log gave each sample it added or relabelled (or restored) the label it has
   * now (ISO time), by key: how a fine-tune tells the corrections made since its parent.
   */
  labelledAt?: ReadonlyMap<string, string>
}

/** Last path segment, without depending on node:path so these types stay usable everywhere. */
function baseName(file: string): string {
  const match = /[^\\/]+[\\/]*$/.exec(file)
  return match ? match[0].replace(/[\\/]+$/, '') : file
}

/** Bad input data: the message names the file (when there is one) and the problem. */
export class DatasetError extends Error {
  /** Full path of the offending file or folder, when there is one. */
  readonly file?: string
  /** The problem alone, without the file name prefix. */
  readonly problem: string

  constructor(problem: string, file?: string, options?: { cause?: unknown }) {
    super(file ? `${baseName(file)}: ${problem}` : problem, options)
    this.name = 'DatasetError'
    this.problem = problem
    if (file !== undefined) this.file = file
  }
}
