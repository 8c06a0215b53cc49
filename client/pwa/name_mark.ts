/**
 * The quiet mark after a name that mixes scripts (Latin with Cyrillic, say):
 * such a name may imitate another one. Lent to the message list through the
 * chat state; the script tables stay out of the main bundle.
 */
import type { ComponentChild } from "preact";
import { isMixedScript } from "../../protocol/name_rules.ts";
import type { Host } from "./host.ts";

/** What the mark says, to screen readers and on hover. */
export const MIXED_SCRIPT_WARNING =
  "This name mixes alphabets: it may imitate another name.";

/** The mark for `author`, or null when the name keeps to one writing system. */
export function createNameMark(
  { h }: Pick<Host, "h">,
): (author: string) => ComponentChild {
  return (author) =>
    isMixedScript(author)
      ? h("span", {
        class: "name-mark",
        role: "img",
        title: MIXED_SCRIPT_WARNING,
        "aria-label": MIXED_SCRIPT_WARNING,
      }, "⚠")
      : null;
}
