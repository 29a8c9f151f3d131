// Serve mode: the UI and its API over HTTP on 127.0.0.1 (plain Node, no Electron).
export { MAX_BODY_BYTES, startServer, type RunningServer, type ServerOptions } from './server'
