// Electron main entry: the desktop app (serve mode starts from the CLI instead).
import { runApp } from './electron/app'

runApp().catch((error: unknown) => {
  console.error('InkLab failed to start:', error)
  process.exit(1)
})
