/**
 * The mention rule both sides use: the client highlights "@ada" for a reader
 * named ada, and the push queue notifies ada's subscriptions by it.
 */

/** A test for "@name" in text: any case, not inside a longer word or name. */
export function mentionPattern(name: string): RegExp {
  const escaped = name.replace(/[$()*+.?[\\\]^{|}/]/g, "\\$&");
  return new RegExp(
    `(?<![\\p{L}\\p{N}_])@${escaped}(?![\\p{L}\\p{N}_])`,
    "iu",
  );
}
