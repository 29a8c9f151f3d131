// Preload: exposes window.inklab.
export {}
