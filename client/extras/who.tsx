/**
 * Who's here, loaded with the client/extras chunk after the first paint:
 * this tab's stream opened under the reader's name (with a stream ticket
 * when the name is claimed here), the list behind the "N online" button
 * (a popover the main bundle only declares), and @-mention suggestions in
 * the composer.
 *
 * The suggestions follow the combobox pattern's keyboard and its
 * aria-autocomplete / aria-controls / aria-activedescendant on the textarea,
 * which keeps its textbox role: ARIA in HTML allows no role on a textarea,
 * and aria-expanded is not a textbox state, so a polite status line says
 * when suggestions appear instead.
 */
// Built against client/extras/lent_preact.ts, the host's h (see there).
import { h } from "preact";
import { nameKey } from "../../protocol/names.ts";
import type { Host } from "../pwa/host.ts";
import { readToken } from "../names.ts";
import { call } from "../outbox.ts";

/** Most names suggested at once. */
export const MAX_SUGGESTIONS = 8;
/** Authors of this many latest messages are suggested after who is here. */
export const RECENT_MESSAGES = 100;
/** The composer's selector; it is the main bundle's textarea. */
const COMPOSER = '[data-testid="composer-input"]';
/** Id of the suggestion list, for aria-controls. */
const LIST_ID = "mentions";

/** The "@query" being written just before the caret, from its "@": [start, query], or null. */
export function mentionQuery(before: string): [number, string] | null {
  // The mention rule's boundary (protocol/mention.ts): no letter, digit or
  // "_" right before the "@".
  const m = /(?<![\p{L}\p{N}_])@([^\s@]*)$/u.exec(before);
  return m ? [m.index, m[1]] : null;
}

/**
 * Names to suggest for `query`: who is here, then recent authors (newest
 * first), each name key once, by prefix of the key, the reader left out.
 */
export function suggestions(
  query: string,
  here: readonly string[],
  recentAuthors: readonly string[],
  me: string | null,
): string[] {
  const prefix = nameKey(query.normalize("NFKC"));
  const seen = new Set([me === null ? "" : nameKey(me)]);
  const out: string[] = [];
  for (const name of [...here, ...recentAuthors]) {
    const key = nameKey(name);
    if (seen.has(key) || !key.startsWith(prefix)) continue;
    seen.add(key);
    out.push(name);
    if (out.length === MAX_SUGGESTIONS) break;
  }
  return out;
}

/** Sets up who's here; `storage` is localStorage or null when blocked. */
export function startWho(host: Host, storage: () => Storage | null): void {
  const { chat, signal, render, effect, link } = host;

  // The stream's name. A name the server refused for a stream (someone
  // else's claim, a ban) is not sent again: the room without it beats none.
  let refused = "";
  const nameQuery = async (): Promise<string> => {
    const name = chat.name.value;
    if (!name || name === refused) return "";
    const token = readToken(storage(), name);
    let q = `name=${encodeURIComponent(name)}`;
    if (token) {
      const answer = await call(
        fetch,
        `/names/${encodeURIComponent(name)}/stream-ticket`,
        "POST",
        {},
        token,
      );
      // No answer (offline, a restart): this attempt fails and is retried,
      // rather than the stream going on without the name.
      if ("error" in answer) throw new Error(answer.error);
      if (answer.status !== 201) return "";
      q += `&ticket=${encodeURIComponent(`${answer.body.ticket}`)}`;
    }
    return q;
  };
  link.get = async (url, init) => {
    const q = await nameQuery();
    if (!q) return fetch(url, init);
    const res = await fetch(
      `${url}${url.includes("?") ? "&" : "?"}${q}`,
      init,
    );
    if (res.status !== 400 && res.status !== 403) return res;
    void res.body?.cancel();
    refused = chat.name.value ?? "";
    return fetch(url, init);
  };
  // The stream opened before this chunk came, without a name; and a new
  // name must show at once.
  effect(() => {
    if (chat.name.value) link.restart();
  });

  function Who() {
    const names = chat.names.value;
    return (
      <div data-testid="who-list">
        <h2 id="who-title" class="who-title">Here now</h2>
        {names.length
          ? (
            <ul aria-labelledby="who-title">
              {names.map((n) => (
                <li key={n}>
                  <bdi>{n}</bdi>
                </li>
              ))}
            </ul>
          )
          : <p>Nobody has a name here yet.</p>}
      </div>
    );
  }
  render(<Who />, document.getElementById("who")!);

  // Mention suggestions: the names, the highlighted one (-1: none yet), and
  // where the "@" being completed starts.
  const options = signal<readonly string[]>([]);
  const active = signal(-1);
  let at = -1;
  const composer = () => document.querySelector<HTMLTextAreaElement>(COMPOSER);

  const update = (t: HTMLTextAreaElement) => {
    t.setAttribute("aria-autocomplete", "list");
    t.setAttribute("aria-controls", LIST_ID);
    const found = mentionQuery(t.value.slice(0, t.selectionStart));
    at = found ? found[0] : -1;
    options.value = found
      ? suggestions(
        found[1],
        chat.names.value,
        chat.messages.value.slice(-RECENT_MESSAGES).map((m) => m.author)
          .reverse(),
        chat.name.value,
      )
      : [];
    active.value = -1;
  };
  const close = () => {
    options.value = [];
    active.value = -1;
  };
  const pick = (name: string) => {
    const t = composer();
    if (!t || at < 0) return close();
    // The mention rule reads "@" and the name as written, spaces and all.
    const text = `@${name} `;
    t.value = t.value.slice(0, at) + text + t.value.slice(t.selectionStart);
    t.selectionStart = t.selectionEnd = at + text.length;
    // The composer keeps its draft from input events.
    t.dispatchEvent(new Event("input", { bubbles: true }));
    close();
    t.focus();
  };
  effect(() => {
    const t = composer();
    const i = active.value;
    if (!t) return;
    if (i >= 0 && options.value.length) {
      t.setAttribute("aria-activedescendant", `${LIST_ID}-${i}`);
    } else t.removeAttribute("aria-activedescendant");
  });

  function Mentions() {
    const list = options.value;
    return (
      <div class="mentions-box">
        <ul
          id={LIST_ID}
          role="listbox"
          aria-label="Names to mention"
          class="mentions"
          data-testid="mention-list"
          hidden={!list.length}
        >
          {list.map((n, i) => (
            <li
              key={n}
              id={`${LIST_ID}-${i}`}
              role="option"
              aria-selected={i === active.value}
              // Keep focus (and a phone's keyboard) in the composer.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(n)}
            >
              <bdi>{n}</bdi>
            </li>
          ))}
        </ul>
        <p role="status" class="visually-hidden">
          {list.length
            ? `${list.length} ${
              list.length === 1 ? "name" : "names"
            } to mention: up and down arrows to choose, Enter to insert, Escape to close.`
            : ""}
        </p>
      </div>
    );
  }
  render(<Mentions />, document.getElementById("mention-box")!);

  addEventListener("input", (e) => {
    if ((e.target as Element).matches?.(COMPOSER)) {
      update(e.target as HTMLTextAreaElement);
    }
  });
  addEventListener("click", (e) => {
    if ((e.target as Element).matches?.(COMPOSER)) {
      update(e.target as HTMLTextAreaElement);
    }
  });
  addEventListener("focusout", (e) => {
    if ((e.target as Element).matches?.(COMPOSER)) close();
  });
  // Capturing, so an open list takes its keys before the composer (Enter
  // sends there) and the extras chunk's own handlers see them.
  addEventListener("keydown", (e) => {
    const n = options.value.length;
    if (!n || e.isComposing || !(e.target as Element).matches?.(COMPOSER)) {
      return;
    }
    const i = active.value;
    if (e.key === "ArrowDown") active.value = (i + 1) % n;
    else if (e.key === "ArrowUp") active.value = (i <= 0 ? n : i) - 1;
    else if (e.key === "Escape") close();
    else if (e.key === "Tab" && !e.shiftKey) {
      pick(options.value[Math.max(i, 0)]);
    } else if (e.key === "Enter" && i >= 0 && !e.shiftKey) {
      pick(options.value[i]);
    } else {
      // Enter with nothing chosen sends as usual; the list goes with it.
      if (e.key === "Enter") close();
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }, true);
}
