/**
 * Searching the room's history: a panel loaded the first time the header's
 * Search button is pressed (its own chunk, so the main bundle keeps its
 * budget). Results come from GET /messages?q=, newest first, with the words
 * found marked; opening one shows the room around that message.
 */
// Built against client/extras/lent_preact.ts, the host's h (see there).
import { h } from "preact";
import type { Message } from "../../protocol/message.ts";
import type { PageHost } from "../pwa/host.ts";
import { getPage, openMessage } from "../pwa/message_target.ts";
import { exactTime, relativeTime } from "../relative_time.ts";
import { lendH } from "../extras/lent_preact.ts";
import { highlight, queryStems } from "./highlight.ts";
import { adoptStyles } from "../lazy_styles.ts";
import css from "./search.css" with { type: "text" };

/** Results per request. */
export const RESULTS_PAGE = 20;
/** Typing pauses this long before the search runs by itself. */
export const TYPING_PAUSE_MS = 300;
/** Longest query the server takes (MAX_SEARCH_LENGTH in server/http/search_routes.ts). */
const MAX_QUERY = 200;

let dialog: HTMLDialogElement | null = null;

/** Called by the header's Search button (client/components/app.tsx) each time it is pressed; the first call builds the panel. */
export function open(host: PageHost, button: HTMLElement): void {
  if (!dialog) build(host, button);
  if (!dialog!.open) dialog!.showModal();
  dialog!.querySelector("input")!.select();
}

function build(host: PageHost, button: HTMLElement): void {
  adoptStyles(css);
  lendH(host.h);
  const { chat, signal, render } = host;
  const results = signal<readonly Message[]>([]);
  const hasMore = signal(false);
  // What the results are for (their marks), and a line for the reader.
  const stems = signal<string[]>([]);
  const note = signal("");
  // Answers for an older query than the latest are dropped.
  let asked = 0;
  let pause: ReturnType<typeof setTimeout> | undefined;

  async function search(more = false): Promise<void> {
    clearTimeout(pause);
    const q = dialog!.querySelector("input")!.value.trim();
    const ticket = ++asked;
    if (!q) {
      results.value = [];
      hasMore.value = false;
      note.value = "";
      return;
    }
    const last = results.value.at(-1);
    const page = await getPage(
      `q=${encodeURIComponent(q)}&limit=${RESULTS_PAGE}` +
        (more && last ? `&before=${last.id}` : ""),
    );
    if (ticket !== asked) return;
    if (typeof page === "string") return void (note.value = page);
    stems.value = queryStems(q);
    results.value = more ? [...results.value, ...page.messages] : page.messages;
    hasMore.value = page.hasMore;
    note.value = results.value.length
      ? `${results.value.length}${page.hasMore ? "+" : ""} found.`
      : "Nothing found.";
  }

  // Shows the room around message `id`, as its permalink would; the panel
  // stays open saying why if it cannot.
  async function show(id: number): Promise<void> {
    note.value = "Loading…";
    // Closed once found: behind the modal panel, the list cannot take focus.
    note.value = await openMessage(chat, id, () => dialog!.close()) ?? "";
  }

  function Panel() {
    const now = Date.now();
    return (
      <div class="search-panel">
        <form
          role="search"
          class="search-form"
          onSubmit={(e) => {
            e.preventDefault();
            void search();
          }}
        >
          <label for="search-q">Search messages</label>
          <input
            id="search-q"
            type="search"
            data-testid="search-input"
            maxLength={MAX_QUERY}
            autoComplete="off"
            onInput={() => {
              clearTimeout(pause);
              pause = setTimeout(search, TYPING_PAUSE_MS);
            }}
          />
          <button type="submit" class="button-primary">Search</button>
          <button
            type="button"
            class="button-quiet"
            onClick={() => dialog!.close()}
          >
            Close
          </button>
        </form>
        <p role="status" class="search-note" data-testid="search-note">
          {note.value}
        </p>
        <ol class="search-results" aria-label="Results">
          {results.value.map((m) => {
            const at = Date.parse(m.createdAt);
            return (
              <li key={m.id}>
                <button
                  type="button"
                  class="search-result"
                  data-testid="search-result"
                  data-id={m.id}
                  onClick={() => void show(m.id)}
                >
                  <span class="search-meta">
                    <bdi class="msg-author">{m.author}</bdi>{" "}
                    <time datetime={m.createdAt} title={exactTime(at)}>
                      {relativeTime(at, now)}
                    </time>
                  </span>
                  <bdi class="search-text">
                    {/* Built from plain strings: a message never becomes markup. */}
                    {highlight(m.text, stems.value).map((part, i) =>
                      i % 2 ? <mark key={i}>{part}</mark> : part
                    )}
                  </bdi>
                </button>
              </li>
            );
          })}
        </ol>
        {hasMore.value && (
          <button
            type="button"
            data-testid="search-more"
            onClick={() => void search(true)}
          >
            Load more
          </button>
        )}
      </div>
    );
  }

  dialog = document.createElement("dialog");
  dialog.className = "search";
  dialog.setAttribute("aria-label", "Search messages");
  dialog.dataset.testid = "search-panel";
  // Escape closes at once, even in a search field with text in it (which
  // Chromium would only clear).
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      dialog!.close();
    }
  });
  // Escape and Close both end here: focus goes back to the button.
  dialog.addEventListener("close", () => button.focus());
  document.body.append(dialog);
  render(<Panel />, dialog);
}
