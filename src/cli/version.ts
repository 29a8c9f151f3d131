/** InkLab's version, injected from package.json at build time (falls back for tests). */
export const VERSION: string =
  typeof __INKLAB_VERSION__ === 'string'
    ? __INKLAB_VERSION__
    : (process.env.npm_package_version ?? '0.0.0')

declare const __INKLAB_VERSION__: string | undefined
