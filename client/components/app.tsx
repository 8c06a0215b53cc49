import { useState } from "preact/hooks";
import { chat } from "../chat_state.ts";
import { Composer } from "./composer.tsx";
import { MessageList } from "./message_list.tsx";
import { NamePrompt } from "./name_prompt.tsx";
import { OutboxList } from "./outbox_list.tsx";
import { StatusBadge } from "./status_badge.tsx";
import { TypingIndicator } from "./typing_indicator.tsx";

/** The page: header, conversation, and the name form or the composer. */
export function App() {
  const [changingName, setChangingName] = useState(false);
  const name = chat.name.value;
  const status = chat.status.value;

  return (
    <div class="app">
      <header class="topbar">
        <h1 class="brand">Plaza</h1>
        <StatusBadge />
        {status === "live" && chat.online.value !== null && (
          <span class="online" data-testid="online-count">
            {chat.online.value} online
          </span>
        )}
        {name !== null && !changingName && (
          <button
            type="button"
            class="button-quiet topbar-action"
            data-testid="change-name"
            title={`Posting as ${name}`}
            onClick={() => setChangingName(true)}
          >
            Change name
          </button>
        )}
      </header>
      <main class="conversation">
        <MessageList
          messages={chat.messages.value}
          ownName={name}
          status={status}
          after={<OutboxList />}
        />
      </main>
      <footer class="dock">
        <TypingIndicator />
        {name === null || changingName
          ? (
            <NamePrompt
              current={name}
              onDone={() => setChangingName(false)}
              onCancel={name === null
                ? undefined
                : () => setChangingName(false)}
            />
          )
          : <Composer author={name} />}
      </footer>
    </div>
  );
}
