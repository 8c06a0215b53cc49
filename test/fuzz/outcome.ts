/** What sending a case came to: an answer, a dropped connection, a hang, or nothing read. */

/** An answer slower than this counts as a hang. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** An HTTP answer as far as the checks need it. */
export interface Answer {
  status: number;
  headers: Headers;
  /** The body as text; for an event stream, its first chunk only. */
  body: string;
}

/** What sending a case came to. */
export type Outcome =
  | { answer: Answer }
  | { dropped: string }
  | { timedOut: true }
  | { sentOnly: true };

/** An error as "Name: message", for reports. */
export function errorText(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
}
