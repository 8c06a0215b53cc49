import { h, render } from "preact";
import { effect, signal, useSignal } from "@preact/signals";
import { chat } from "../chat_state.ts";
import { takenSentence } from "../names.ts";
import { Composer } from "./composer.tsx";
import { MessageList } from "./message_list.tsx";
import { NamePrompt } from "./name_prompt.tsx";
import { StatusBadge } from "./status_badge.tsx";
import { TypingIndicator } from "./typing_indicator.tsx";
import type { PageHost } from "../pwa/host.ts";

/** What client/search/search.tsx exports. */
interface SearchModule {
  open(host: PageHost, button: HTMLElement): void;
}

/** URL of the search panel's chunk, filled in by tools/build_client.ts. */
declare const PLAZA_SEARCH_CHUNK: string;

/** The page: header, conversation, and the name form or the composer. */
export function App() {
  const changingName = useSignal(false);
  const name = chat.name.value;
  const online = chat.online.value;
  const done = () => (changingName.value = false);
  const taken = chat.taken.value;

  return (
    <div class="app">
      <header class="topbar">
        <h1 class="brand">Plaza</h1>
        <StatusBadge />
        {chat.status.value === "live" && online !== null && (
          // Opens who's here, which the client/extras chunk fills.
          <button
            type="button"
            class="button-quiet online"
            data-testid="online-count"
            popovertarget="who"
          >
            {online} online
          </button>
        )}
        <div id="who" class="who" popover="auto" />
        {name !== null && !changingName.value && (
          <button
            type="button"
            class="button-quiet topbar-action"
            data-testid="change-name"
            // FSI…PDI: a name's bidi controls cannot reorder "Posting as".
            title={`Posting as \u2068${name}\u2069`}
            onClick={() => (changingName.value = true)}
          >
            Change name
          </button>
        )}
        {
          /* The lazy chunks' buttons, on one line that scrolls sideways when
            full rather than wrap: there from the first paint (on phones a
            row of its own), so their arrival moves nothing. */
        }
        <div class="tools-row">
          <button
            type="button"
            class="button-quiet"
            data-testid="search-open"
            aria-label="Search messages"
            title="Search messages"
            // The panel loads on the first press (client/search).
            onClick={({ currentTarget: button }) =>
              import(PLAZA_SEARCH_CHUNK).then((m: SearchModule) =>
                m.open({ h, render, signal, effect, chat }, button)
              )}
          >
            {/* A magnifier: a word takes room the header lacks on phones. */}
            <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
              <path d="M11 4a7 7 0 1 0 0 14a7 7 0 0 0 0-14m9 16-4-4" />
            </svg>
          </button>

          {
            /* Filled by the client/extras chunk (moving a name). First: its
              button comes before the others, which then move nothing. */
          }
          <div id="name-tools" />
          {/* Filled by the client/pwa chunk once loaded (notify, install). */}
          <div id="tools" class="tools" />
        </div>
        {/* The client/pwa chunk's notes and the iOS install hint. */}
        <div id="tool-notes" class="tool-notes" />
      </header>
      {/* The pinned notice, which the client/room chunk fills. */}
      <div id="notice" />
      <main class="conversation">
        <MessageList />
      </main>
      <footer class="dock">
        <TypingIndicator />
        {/* Filled by the client/extras chunk (the message replied to). */}
        <div id="replying" />
        {/* Filled by the client/extras chunk (names to mention). */}
        <div id="mention-box" />
        {taken && (
          <p class="form-error" role="alert" data-testid="name-taken">
            {takenSentence(taken)} {taken.suggestion && (
              <button
                type="button"
                data-testid="use-suggestion"
                onClick={() => {
                  chat.setName(taken.suggestion!);
                  // What the taken name held back goes now, as the new name.
                  for (const i of chat.outbox.value) {
                    if (i.taken) chat.retrySend(i.clientId);
                  }
                }}
              >
                Use “{taken.suggestion}”
              </button>
            )}
          </p>
        )}
        {/* Why the composer is closed in a lockdown (client/room). */}
        <div id="lockdown" />
        {name === null || changingName.value
          ? <NamePrompt current={name} onDone={done} />
          : <Composer author={name} />}
      </footer>
    </div>
  );
}
