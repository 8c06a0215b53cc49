/**
 * What a message can do besides being read, loaded by main.tsx after the
 * first paint (its own chunk, so the main bundle keeps its budget): the
 * message menu (reply, react, edit, delete), reactions under each message,
 * the reply being written above the composer, "Copy link" (the message's
 * permalink), ↑ in an empty composer to edit the last own message, moving
 * a claimed name to another device with a one-time code, muting and
 * reporting (moderation.tsx), who's here and @-mention suggestions
 * (who.tsx), link previews, and "new since you left": where this device
 * stopped reading, with the app badge (unread.ts), and the "N new messages"
 * divider (unread_divider.tsx).
 */
// Built against client/extras/lent_preact.ts, the host's h (see there).
import { h } from "preact";
import type { Message } from "../../protocol/message.ts";
import { REACTION_EMOJIS } from "../../protocol/reactions.ts";
import type { Host } from "../pwa/host.ts";
import { readToken, storeToken, takenSentence, tokenFor } from "../names.ts";
import { call, failure } from "../outbox.ts";
import { lendH } from "./lent_preact.ts";
import { moderation } from "./moderation.tsx";
import { eraseMine } from "./erase.tsx";
import { startWho } from "./who.tsx";
import { createUnreadDivider } from "./unread_divider.tsx";
import { keepUnread } from "./unread.ts";
import { adoptStyles } from "../lazy_styles.ts";
import { startOutboxList } from "./outbox_list.tsx";
import css from "./extras.css" with { type: "text" };
import botBadgeCss from "./bot_badge.css" with { type: "text" };

/** How long a delete waits for Undo before it is sent. */
export const UNDO_MS = 5_000;
/** How long "Link copied." stays. */
export const COPIED_SHOWN_MS = 4_000;

function storage(): Storage | null {
  try {
    return globalThis.localStorage;
  } catch {
    // Accessing localStorage itself throws when the browser blocks storage.
    return null;
  }
}

/** Called by main.tsx once the chunk has loaded, with the page's Preact, signals and chat state. */
export function start(host: Host): void {
  adoptStyles(css);
  adoptStyles(botBadgeCss);
  lendH(host.h);
  startOutboxList(host, document.getElementById("outbox")!);
  const { chat, signal, render } = host;
  startWho(host, storage);
  // The message whose menu is open, whose reaction picker is open, being edited.
  const menu = signal(0);
  const picker = signal(0);
  const editing = signal(0);
  // Deletes waiting for their undo moment: message id → timer.
  const undo = signal<ReadonlyMap<number, ReturnType<typeof setTimeout>>>(
    new Map(),
  );
  // The last failure, as a sentence.
  const note = signal("");
  // Whether the last "Copy link" worked, as a sentence (for a while).
  const copied = signal("");
  let copiedTimer: ReturnType<typeof setTimeout> | undefined;

  // Sends a change with the token `name` holds here; the answer's body, or
  // nothing (the note says why).
  async function change(
    path: string,
    method: string,
    fields: Record<string, string>,
    name: string | null,
    claim = false,
  ): Promise<Record<string, unknown> | undefined> {
    note.value = "";
    if (!name) return void (note.value = "Choose a name first.");
    const got = claim
      ? await tokenFor(fetch, storage(), name, 0)
      : { token: readToken(storage(), name) };
    if (!("token" in got)) {
      note.value = got.taken ? takenSentence(got.taken) : got.error;
      return;
    }
    const answer = await call(fetch, path, method, fields, got.token);
    if ("error" in answer) note.value = answer.error;
    else if (answer.status < 300) return answer.body;
    else note.value = failure(answer).error;
  }

  // The read-only embed (/embed without ?mode=write): reactions are shown,
  // not given, and there is no menu (client/embed/embed.css).
  const { classList } = document.documentElement;
  const readOnly = classList.contains("embed") && !classList.contains("write");
  const mine = (m: Message) => !!m.verified && !!readToken(storage(), m.author);

  // Puts focus on what a change just rendered (a Preact render is synchronous
  // once the signal changed, but the list re-renders on the next frame).
  const focus = (selector: string) =>
    requestAnimationFrame(() =>
      document.querySelector<HTMLElement>(selector)?.focus()
    );

  const { MenuItems, ReportForm, reporting, Status, MutedList } = moderation({
    host,
    menu,
    note,
    focus,
  });

  function edit(m: Message): void {
    menu.value = 0;
    editing.value = m.id;
    focus('[data-testid="edit-input"]');
  }

  async function save(m: Message, text: string): Promise<void> {
    if (text.trim() === m.text) return void (editing.value = 0);
    const body = await change(`/messages/${m.id}`, "PATCH", { text }, m.author);
    if (body) {
      chat.editMessage(body as unknown as Message);
      editing.value = 0;
      focus('[data-testid="composer-input"]');
    }
  }

  function remove(m: Message): void {
    menu.value = 0;
    const timer = setTimeout(async () => {
      setUndo(m.id);
      if (await change(`/messages/${m.id}`, "DELETE", {}, m.author)) {
        chat.removeMessage(m.id);
      }
    }, UNDO_MS);
    undo.value = new Map(undo.value).set(m.id, timer);
    focus(`[data-id="${m.id}"] [data-testid="undo-delete"]`);
  }

  // Ends a delete's undo moment (cancelling it, when it was still waiting).
  function setUndo(id: number): void {
    clearTimeout(undo.value.get(id));
    const next = new Map(undo.value);
    next.delete(id);
    undo.value = next;
  }

  async function react(m: Message, emoji: string): Promise<void> {
    picker.value = 0;
    const body = await change(
      `/messages/${m.id}/reactions`,
      "POST",
      { emoji },
      chat.name.value,
      // Reacting is a use of the name like a send: it claims it.
      true,
    );
    const changed = body?.message as Message | undefined;
    if (changed?.reactions) chat.setReactions(m.id, changed.reactions);
  }

  // Puts the message's permalink on the clipboard; where the browser refuses,
  // the link is shown to copy by hand.
  async function copyLink(m: Message): Promise<void> {
    menu.value = 0;
    // The path client/pwa/message_target.ts opens (permalink there).
    const url = `${location.origin}/m/${m.id}`;
    try {
      await navigator.clipboard.writeText(url);
      copied.value = "Link copied.";
    } catch {
      copied.value = `Copy this link: ${url}`;
    }
    clearTimeout(copiedTimer);
    copiedTimer = setTimeout(() => (copied.value = ""), COPIED_SHOWN_MS);
    focus(`[data-id="${m.id}"] [data-testid="message-menu"]`);
  }

  function Extras({ m }: { m: Message }) {
    const own = mine(m);
    const name = chat.name.value;
    const open = menu.value === m.id;
    const choosing = picker.value === m.id;
    if (undo.value.has(m.id)) {
      return (
        <p class="undo" role="status">
          Message deleted.{" "}
          <button
            type="button"
            data-testid="undo-delete"
            onClick={() => {
              setUndo(m.id);
              focus(`[data-id="${m.id}"] [data-testid="message-menu"]`);
            }}
          >
            Undo
          </button>
        </p>
      );
    }
    if (
      !m.reactions?.length && !open && editing.value !== m.id &&
      !reporting(m.id)
    ) return null;
    return (
      <div class="extras">
        {m.reactions?.map((r) => (
          <button
            type="button"
            data-testid="reaction"
            aria-pressed={!!name && r.names.includes(name)}
            aria-label={`${r.emoji} ${r.count}: ${r.names.join(", ")}`}
            title={r.names.join(", ")}
            disabled={readOnly}
            onClick={() => react(m, r.emoji)}
          >
            {r.emoji} {r.count}
          </button>
        ))}
        {open && (
          <span class="menu" role="group" aria-label="Message actions">
            <button
              type="button"
              data-testid="reply"
              onClick={() => {
                menu.value = 0;
                chat.setReplyTo(m);
                focus('[data-testid="composer-input"]');
              }}
            >
              Reply
            </button>
            <button
              type="button"
              data-testid="react"
              aria-expanded={choosing}
              onClick={() => {
                picker.value = choosing ? 0 : m.id;
                focus(`[data-id="${m.id}"] .picker button`);
              }}
            >
              React
            </button>
            <button
              type="button"
              data-testid="copy-link"
              onClick={() => void copyLink(m)}
            >
              Copy link
            </button>
            {own && (
              <button
                type="button"
                data-testid="edit"
                onClick={() => edit(m)}
              >
                Edit
              </button>
            )}
            {own && (
              <button
                type="button"
                data-testid="delete"
                onClick={() => remove(m)}
              >
                Delete
              </button>
            )}
            <MenuItems m={m} />
          </span>
        )}
        <ReportForm m={m} />
        {open && choosing && (
          <span class="menu picker" role="group" aria-label="Reactions">
            {REACTION_EMOJIS.map((e) => (
              <button
                type="button"
                aria-label={`React with ${e}`}
                aria-pressed={!!name &&
                  !!m.reactions?.some((r) =>
                    r.emoji === e && r.names.includes(name)
                  )}
                onClick={() => {
                  menu.value = 0;
                  void react(m, e);
                }}
              >
                {e}
              </button>
            ))}
          </span>
        )}
        {editing.value === m.id && (
          <form
            class="edit"
            onSubmit={(e) => {
              e.preventDefault();
              void save(m, e.currentTarget.text.value);
            }}
          >
            <textarea
              name="text"
              aria-label="Edit message"
              data-testid="edit-input"
              defaultValue={m.text}
              onKeyDown={(e) => {
                if (e.key === "Escape") {
                  editing.value = 0;
                  focus('[data-testid="composer-input"]');
                }
                if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                  e.preventDefault();
                  e.currentTarget.form!.requestSubmit();
                }
              }}
            />
            <button type="submit" data-testid="edit-save">Save</button>
            <button type="button" onClick={() => (editing.value = 0)}>
              Cancel
            </button>
          </form>
        )}
      </div>
    );
  }

  // Beside the bubble: the menu's button, shown on hover and focus (always
  // on touch screens, see styles.css).
  function More({ m }: { m: Message }) {
    const open = menu.value === m.id;
    return undo.value.has(m.id) ? null : (
      <button
        type="button"
        class="more"
        data-testid="message-menu"
        aria-label="Message actions"
        aria-expanded={open}
        onClick={() => {
          menu.value = open ? 0 : m.id;
          picker.value = 0;
        }}
      >
        ⋯
      </button>
    );
  }

  // The server's preview of the message's first link: text only, as text.
  // Its image is not shown: loading it would tell a third party who reads
  // the room, and when.
  function Preview({ m }: { m: Message }) {
    const p = m.preview;
    if (!p || undo.value.has(m.id)) return null;
    return (
      <a
        class="preview"
        href={p.url}
        target="_blank"
        rel="noreferrer nofollow"
        data-testid="preview"
      >
        {p.site && <bdi class="preview-site">{p.site}</bdi>}
        {p.title && <bdi class="preview-title">{p.title}</bdi>}
        {p.description && <bdi>{p.description}</bdi>}
      </a>
    );
  }

  const divider = createUnreadDivider(chat);
  keepUnread(host);
  chat.setMessageExtras((m, before) =>
    before ? divider(m) : [
      <Preview key="preview" m={m} />,
      <More key="more" m={m} />,
      <Extras key="extras" m={m} />,
    ]
  );

  // Above the composer: the reply being written, and what went wrong.
  function Dock() {
    const r = chat.replyTo.value;
    return (
      <div>
        <Status />
        {/* There before it speaks, so screen readers hear it change. */}
        <p class="tools-note" role="status" data-testid="copy-status">
          {copied.value}
        </p>
        {note.value && (
          <p class="form-error" role="alert" data-testid="extras-note">
            {note.value}
          </p>
        )}
        {r && (
          <p class="replying" data-testid="replying">
            <span>
              Replying to <bdi>{r.author}</bdi>: <bdi>{r.text}</bdi>
            </span>
            <button
              type="button"
              aria-label="Cancel reply"
              onClick={() => chat.setReplyTo(null)}
            >
              ✕
            </button>
          </p>
        )}
      </div>
    );
  }

  // Moving the name: a code here, or a code from the other device.
  function MoveName() {
    const panel = signal(false);
    const code = signal("");
    const Erase = eraseMine({
      host,
      storage,
      change: (path, method, fields, name) =>
        change(path, method, fields, name),
    });
    return function Move() {
      const name = chat.name.value;
      const held = !!name && !!readToken(storage(), name);
      return (
        <div class="move">
          <button
            type="button"
            class="button-quiet"
            data-testid="move-name"
            aria-expanded={panel.value}
            onClick={() => (panel.value = !panel.value)}
          >
            Move name
          </button>
          {panel.value && (
            <div class="move-panel">
              {held && (
                <p>
                  <button
                    type="button"
                    data-testid="show-code"
                    onClick={async () => {
                      const body = await change(
                        `/names/${encodeURIComponent(name!)}/transfer`,
                        "POST",
                        {},
                        name,
                      );
                      if (body) code.value = `${body.code}`;
                    }}
                  >
                    Show a code for “{name}”
                  </button>
                </p>
              )}
              {code.value && (
                <p role="status">
                  Enter{" "}
                  <output data-testid="transfer-code">{code.value}</output>{" "}
                  on your other device within 10 minutes. This device then stops
                  posting as “{name}”.
                </p>
              )}
              <form
                onSubmit={async (e) => {
                  e.preventDefault();
                  note.value = "";
                  const answer = await call(fetch, "/names/claim", "POST", {
                    code: e.currentTarget.code.value,
                  });
                  if ("error" in answer) note.value = answer.error;
                  else if (answer.status === 201) {
                    const got = answer.body as { name: string; token: string };
                    storeToken(storage(), got.name, got.token);
                    chat.setName(got.name);
                    panel.value = false;
                  } else {
                    note.value = answer.status === 403
                      ? "That code is wrong, used or expired."
                      : failure(answer).error;
                  }
                }}
              >
                <label>
                  Code from your other device{" "}
                  <input
                    name="code"
                    data-testid="claim-code-input"
                    autocomplete="one-time-code"
                  />
                </label>
                <button type="submit" data-testid="claim-code">Use code</button>
              </form>
              {held && <Erase name={name!} />}
            </div>
          )}
        </div>
      );
    };
  }

  render(<Dock />, document.getElementById("replying")!);
  const Move = MoveName();
  render(
    <div class="move">
      <Move />
      <MutedList />
    </div>,
    document.getElementById("name-tools")!,
  );

  // ↑ in an empty composer edits the last own message.
  addEventListener("keydown", (e) => {
    const t = e.target as HTMLTextAreaElement;
    if (
      e.key !== "ArrowUp" || t.dataset?.testid !== "composer-input" || t.value
    ) return;
    const last = chat.messages.value.findLast(mine);
    if (last) {
      e.preventDefault();
      edit(last);
    }
  });
  addEventListener("keydown", (e) => {
    // Escape drops the reply being written, then closes an open menu.
    if (e.key === "Escape" && chat.replyTo.value && !menu.value) {
      chat.setReplyTo(null);
    }
    if (e.key === "Escape" && (menu.value || picker.value)) {
      const id = menu.value || picker.value;
      menu.value = picker.value = 0;
      focus(`[data-id="${id}"] [data-testid="message-menu"]`);
    }
  });
}
