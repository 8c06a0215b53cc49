/**
 * The reader's own moderation, part of the client/extras chunk: muting a
 * name on this device (chat_state.ts hides it; nothing is sent), with an
 * Undo and a list to unmute from later, and reporting a message to the
 * room's moderators (POST /reports) with an optional reason.
 */
// Built against client/extras/lent_preact.ts, the host's h (see there).
import { type ComponentChild, h } from "preact";
import type { Signal } from "@preact/signals";
import type { Message } from "../../protocol/message.ts";
import { nameKey } from "../../protocol/names.ts";
import type { Host } from "../pwa/host.ts";
import { call, failure } from "../outbox.ts";

/** What a report's field accepts: the server's limit (server/http/report_routes.ts). */
export const MAX_REASON = 500;
/** Said once a report is in. */
export const REPORTED = "Reported. Thanks — a moderator will look.";

/** What extras.tsx lends: its open menu, its failure note and its focus helper. */
export interface ModerationDeps {
  host: Host;
  menu: Signal<number>;
  note: Signal<string>;
  focus: (selector: string) => void;
}

/** The pieces extras.tsx places: menu buttons, the report form, the status line and the muted list. */
export interface Moderation {
  /** "Mute <name>" and "Report" for the message menu (none on the reader's own name). */
  MenuItems(props: { m: Message }): ComponentChild;
  /** The report form under a message, while it is open. */
  ReportForm(props: { m: Message }): ComponentChild;
  /** Whether the report form is open under message `id`. */
  reporting(id: number): boolean;
  /** Above the composer: "Muted Ada. Undo" or the report's outcome. */
  Status(): ComponentChild;
  /** In the header: "Muted: N", opening the list to unmute from. */
  MutedList(): ComponentChild;
}

const menuButton = (id: number) =>
  `[data-id="${id}"] [data-testid="message-menu"]`;

/** Builds the moderation pieces over the page's chat state. */
export function moderation(
  { host, menu, note, focus }: ModerationDeps,
): Moderation {
  const { chat, signal } = host;
  // The message whose report form is open.
  const reportingId = signal(0);
  // The last mute, while its Undo is offered.
  const lastMute = signal<{ name: string; id: number } | null>(null);
  // The last report's outcome when it went through.
  const said = signal("");
  const listOpen = signal(false);

  const own = (m: Message) =>
    chat.isOwn(m) ||
    (!!chat.name.value && nameKey(chat.name.value) === nameKey(m.author));

  function mute(m: Message): void {
    menu.value = 0;
    said.value = "";
    chat.mute(m.author);
    lastMute.value = { name: m.author, id: m.id };
    // The message (and its focused menu) is gone: focus goes to the Undo.
    focus('[data-testid="undo-mute"]');
  }

  async function send(m: Message, reason: string): Promise<void> {
    note.value = "";
    said.value = "";
    const answer = await call(fetch, "/reports", "POST", {
      messageId: m.id,
      reason: reason.trim() || undefined,
      name: chat.name.value ?? undefined,
    });
    if ("error" in answer) note.value = answer.error;
    else if (answer.status < 300) said.value = REPORTED;
    else note.value = failure(answer).error;
    reportingId.value = 0;
    focus(menuButton(m.id));
  }

  function MenuItems({ m }: { m: Message }) {
    // An array, not a fragment: the chunk borrows the page's h only.
    if (own(m)) return null;
    return [
      <button
        key="mute"
        type="button"
        data-testid="mute"
        onClick={() => mute(m)}
      >
        Mute <bdi>{m.author}</bdi>
      </button>,
      <button
        key="report"
        type="button"
        data-testid="report"
        aria-expanded={reportingId.value === m.id}
        onClick={() => {
          menu.value = 0;
          reportingId.value = m.id;
          focus(`[data-id="${m.id}"] [data-testid="report-reason"]`);
        }}
      >
        Report
      </button>,
    ];
  }

  function ReportForm({ m }: { m: Message }) {
    if (reportingId.value !== m.id) return null;
    const cancel = () => {
      reportingId.value = 0;
      focus(menuButton(m.id));
    };
    return (
      <form
        class="edit"
        aria-label={`Report the message by ${m.author}`}
        data-testid="report-form"
        onSubmit={(e) => {
          e.preventDefault();
          void send(m, e.currentTarget.reason.value);
        }}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.stopPropagation();
            cancel();
          }
        }}
      >
        <label>
          Why are you reporting this? (optional){" "}
          <input
            name="reason"
            data-testid="report-reason"
            maxLength={MAX_REASON}
            autocomplete="off"
          />
        </label>
        <button type="submit" data-testid="report-send">Send report</button>
        <button type="button" onClick={cancel}>Cancel</button>
      </form>
    );
  }

  function Status() {
    const muted = lastMute.value;
    if (
      muted && chat.muted.value.some((n) => nameKey(n) === nameKey(muted.name))
    ) {
      return (
        <p class="replying" role="status" data-testid="mute-status">
          <span>
            Muted <bdi>{muted.name}</bdi>.
          </span>
          <button
            type="button"
            data-testid="undo-mute"
            onClick={() => {
              chat.unmute(muted.name);
              lastMute.value = null;
              focus(menuButton(muted.id));
            }}
          >
            Undo
          </button>
        </p>
      );
    }
    return said.value
      ? (
        <p class="replying" role="status" data-testid="report-status">
          <span>{said.value}</span>
          <button
            type="button"
            aria-label="Dismiss"
            onClick={() => {
              said.value = "";
              focus('[data-testid="composer-input"]');
            }}
          >
            ✕
          </button>
        </p>
      )
      : null;
  }

  function MutedList() {
    const names = chat.muted.value;
    if (!names.length) return null;
    return (
      <div class="move">
        <button
          type="button"
          class="button-quiet"
          data-testid="muted-list"
          aria-expanded={listOpen.value}
          onClick={() => (listOpen.value = !listOpen.value)}
        >
          Muted: {names.length}
        </button>
        {listOpen.value && (
          <ul class="move-panel" aria-label="Muted names">
            {names.map((n) => (
              <li key={n}>
                <bdi>{n}</bdi>{" "}
                <button
                  type="button"
                  data-testid="unmute"
                  aria-label={`Unmute ${n}`}
                  onClick={() => {
                    chat.unmute(n);
                    // The control goes with the last name.
                    focus(
                      names.length > 1
                        ? '[data-testid="muted-list"]'
                        : '[data-testid="composer-input"]',
                    );
                  }}
                >
                  Unmute
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }

  return {
    MenuItems,
    ReportForm,
    reporting: (id) => reportingId.value === id,
    Status,
    MutedList,
  };
}
