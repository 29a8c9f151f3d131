// Electron main entry: filled in by the desktop-app work.
export {}
