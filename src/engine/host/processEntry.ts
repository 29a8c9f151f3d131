// Engine host process entry (utilityProcess / fork).
export {}
