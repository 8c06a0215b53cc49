/** Result of validating untrusted input: the cleaned value or a human sentence. */
export type Validated<T> = { ok: true; value: T } | {
  ok: false;
  error: string;
};
