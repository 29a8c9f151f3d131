// h5wasm (the HDF5 C library compiled to WebAssembly, 5 MB of JavaScript) is bundled into the
// build, as a devDependency, rather than loaded from node_modules: it is ESM-only, and Electron
// cannot always import ESM from inside the app's asar archive. It is imported on first use, so the
// CLI and the engine host do not parse it unless a Keras export is made.
type H5wasm = typeof import('h5wasm/node')

let loading: Promise<H5wasm> | null = null

/**
 * The h5wasm module, ready to open files on the real file system (its Node build uses
 * Emscripten's NODERAWFS). Emscripten's environment check mistakes a runtime that defines
 * `navigator` (Electron, Node 21+) for a browser, so `navigator` is hidden while it starts, as
 * h5wasm's README advises.
 */
export function loadH5wasm(): Promise<H5wasm> {
  loading ??= (async () => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
    if (descriptor?.configurable) {
      Object.defineProperty(globalThis, 'navigator', { value: undefined, configurable: true })
    }
    try {
      const h5wasm = await import('h5wasm/node')
      await h5wasm.ready
      return h5wasm
    } finally {
      if (descriptor?.configurable) Object.defineProperty(globalThis, 'navigator', descriptor)
    }
  })()
  loading.catch(() => {
    loading = null
  })
  return loading
}
