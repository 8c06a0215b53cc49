/** An error (or anything thrown) as one line for the log and the report. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(
    error,
  );
}
