// Shape inference and checks are pure and shared with the renderer: see src/shared/architecture.ts.
export * from '@shared/architecture'
