import { h } from "preact";
import { useSignal } from "@preact/signals";
import { chat } from "../chat_state.ts";
import { takenSentence } from "../names.ts";
import { Composer } from "./composer.tsx";
import { MessageList } from "./message_list.tsx";
import { NamePrompt } from "./name_prompt.tsx";
import { StatusBadge } from "./status_badge.tsx";
import { TypingIndicator } from "./typing_indicator.tsx";

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
        {name === null || changingName.value
          ? <NamePrompt current={name} onDone={done} />
          : <Composer author={name} />}
      </footer>
    </div>
  );
}
