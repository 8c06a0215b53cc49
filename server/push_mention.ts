/**
 * Whether a message calls a subscriber by name ("@ada"), by the same rule the
 * client highlights with (client/mention.ts). A copy rather than an import:
 * the server's container image carries server/ only, not client/;
 * push_mention_test.ts keeps the two in step.
 */

/** A test for "@name" in text: any case, not inside a longer word or name. */
export function mentionPattern(name: string): RegExp {
  const escaped = name.replace(/[$()*+.?[\\\]^{|}/]/g, "\\$&");
  return new RegExp(
    `(?<![\\p{L}\\p{N}_])@${escaped}(?![\\p{L}\\p{N}_])`,
    "iu",
  );
}
