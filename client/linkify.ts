/** Finds web links in message text so they can be rendered as <a> elements. */
import { LINK } from "../protocol/links.ts";

/**
 * Splits text into plain and link parts: even indexes are plain text, odd
 * ones are http(s) URLs. Joined, the parts give back the text unchanged.
 */
export function linkify(text: string): string[] {
  return text.split(LINK);
}
