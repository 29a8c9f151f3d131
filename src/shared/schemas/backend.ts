import { z } from 'zod'

/** Compute backends InkLab can train on. `cpu` (pure JS) is never chosen automatically. */
export const BackendNameSchema = z.enum(['native', 'wasm', 'cpu'])
export type BackendName = z.infer<typeof BackendNameSchema>

/** What the user asked for: a specific backend, or the best one that loads. */
export const BackendRequestSchema = z.enum(['auto', 'native', 'wasm', 'cpu'])
export type BackendRequest = z.infer<typeof BackendRequestSchema>

/** Which backend runs and, when it is not the native one, why. Shown in the CLI and the UI. */
export const BackendInfoSchema = z.object({
  name: BackendNameSchema,
  requested: BackendRequestSchema,
  /** tfjs backend id as registered (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: z.string(),
  /** Human-readable detail, e.g. "wasm (SIMD, 2 threads)". */
  detail: z.string(),
  /** Why the native backend is not running; absent when it is. */
  nativeUnavailableReason: z.string().optional(),
})
export type BackendInfo = z.infer<typeof BackendInfoSchema>
