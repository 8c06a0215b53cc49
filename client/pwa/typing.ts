/**
 * "ada is typing…", both ways: while the composer has text, POST /typing now
 * and then, and show who else is typing in the footer's live region
 * (components/typing_indicator.tsx renders it empty). Hints only, so they
 * start with this chunk rather than weigh on the main bundle.
 */
import type { Host } from "./host.ts";

/** The server allows one typing notice per ~3 s per client; more would be 429s. */
export const TYPING_EVERY_MS = 3_000;

/** Sends typing notices as `chat.name` while the composer (a textarea in .composer) has text. */
export function sendTypingNotices({ chat }: Pick<Host, "chat">): void {
  let sentAt = 0;
  addEventListener("input", ({ target }) => {
    const author = chat.name.value;
    if (
      author && target instanceof HTMLTextAreaElement &&
      target.closest(".composer") && target.value.trim() &&
      Date.now() - sentAt > TYPING_EVERY_MS
    ) {
      sentAt = Date.now();
      // A lost or refused notice does not matter.
      fetch("/typing", {
        method: "POST",
        body: new URLSearchParams({ author }),
      }).catch(() => {});
    }
  });
}

/** Shows `chat.typing` in #typing: each name in a <bdi>, so its bidi controls cannot reorder the words around it. */
export function showTyping({ chat, h, render }: Host): void {
  const slot = document.getElementById("typing");
  if (!slot) return;
  const Typing = () => {
    const names = chat.typing.value;
    return names.length
      ? h(
        "span",
        null,
        names.flatMap((n, i) => [i ? ", " : "", h("bdi", null, n)]),
        ` ${names.length > 1 ? "are" : "is"} typing…`,
      )
      : null;
  };
  render(h(Typing, null), slot);
}
