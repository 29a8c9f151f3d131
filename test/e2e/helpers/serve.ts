import {
  invoke,
  startServe as startServeIn,
  type ServeHandle,
  type ServeOptions,
} from '../../../scripts/lib/serve.mjs'
import { APP_ROOT } from './paths'

export { invoke, type ServeHandle, type ServeOptions }

/** `inklab serve` for the specs: the app under test is APP_ROOT (see ./paths). */
export function startServe(options: ServeOptions = {}): Promise<ServeHandle> {
  return startServeIn({ appRoot: APP_ROOT, ...options })
}
