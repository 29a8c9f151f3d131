import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'

import { setBridge } from '@renderer/bridge'
import { createFakeBridge, type FakeBridge, type Handlers } from './fakeBridge'

/** A fresh Pinia wired to a fresh fake bridge. */
export function setupFake(handlers: Handlers = {}): { fake: FakeBridge; pinia: Pinia } {
  const fake = createFakeBridge(handlers)
  setBridge(fake.bridge)
  const pinia = createPinia()
  setActivePinia(pinia)
  return { fake, pinia }
}

/** Lets pending promises and Vue updates settle. */
export async function settle(): Promise<void> {
  await flushPromises()
  await flushPromises()
}
