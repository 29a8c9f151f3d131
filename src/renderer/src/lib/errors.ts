/** The message to show for anything thrown, naming the file when the error carries one. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const file = (error as Error & { file?: unknown }).file
    const message = error.message || error.name
    return typeof file === 'string' && file && !message.includes(file)
      ? `${message} (${file})`
      : message
  }
  return typeof error === 'string' ? error : 'Something went wrong'
}
