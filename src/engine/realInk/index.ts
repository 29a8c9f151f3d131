// Real-ink benchmark: pen trajectories rendered as pad drawings and scans, read per writer.
export * from './trajectories'
export * from './render'
export * from './benchmark'
export * from './sets'
export * from './folderTrain'
export * from './trainingInk'
