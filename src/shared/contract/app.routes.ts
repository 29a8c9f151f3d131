import { z } from 'zod'

import { BackendInfoSchema } from '../schemas'
import { defineRoute, PathSchema } from './define'

/** How the renderer reaches the services. */
export const TransportSchema = z.enum(['ipc', 'http'])

/** Facts the UI shows in its status bar and About box. */
export const AppInfoSchema = z.object({
  version: z.string(),
  transport: TransportSchema,
  platform: z.string(),
  dataDir: z.string(),
  /** Null until the engine host reports which backend it activated. */
  backend: BackendInfoSchema.nullable(),
  /** Set when the engine host is not running (crashed, or failed to start). */
  engineError: z.string().optional(),
  /** Native file dialogs exist (Electron); in serve mode the UI asks for a path instead. */
  nativeDialogs: z.boolean(),
})
export type AppInfo = z.infer<typeof AppInfoSchema>

export const appRoutes = {
  /** Version, transport, data folder and the active compute backend. */
  'app.info': defineRoute('app.info', z.object({}), AppInfoSchema),
  /** Shows a native open dialog (Electron only); null when cancelled or unsupported. */
  'dialog.open': defineRoute(
    'dialog.open',
    z.object({
      kind: z.enum(['folder', 'files']),
      title: z.string().max(200).optional(),
      filters: z
        .array(
          z.object({
            name: z.string().max(100),
            extensions: z.array(z.string().max(20)).max(50),
          }),
        )
        .max(20)
        .optional(),
    }),
    z.object({ paths: z.array(z.string()).nullable() }),
  ),
  /** Reveals a file or folder in the system file manager (Electron only). */
  'shell.reveal': defineRoute(
    'shell.reveal',
    z.object({ path: PathSchema }),
    z.object({ ok: z.boolean() }),
  ),
} as const
