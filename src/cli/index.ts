// CLI entry.
export {}
