/** Whether a message calls the reader by name ("@ada"). */

/** A test for "@name" in text: any case, not inside a longer word or name. */
export function mentionPattern(name: string): RegExp {
  const escaped = name.replace(/[$()*+.?[\\\]^{|}/]/g, "\\$&");
  return new RegExp(
    `(?<![\\p{L}\\p{N}_])@${escaped}(?![\\p{L}\\p{N}_])`,
    "iu",
  );
}
