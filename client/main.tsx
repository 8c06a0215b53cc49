/** Entry point: renders the app, lets one tab hold the stream for all, and routes events into the chat state. */
import { render } from "preact";
import type { Message } from "../server/message.ts";
import { chat } from "./chat_state.ts";
import { App } from "./components/app.tsx";
import {
  connectEventStream,
  type ConnectionStatus,
  type EventStreamHandle,
} from "./event_stream.ts";
import { isMessage } from "./message_shape.ts";
import { joinTabs } from "./tab_leader.ts";
import "./styles.css";

const root = document.getElementById("app");
if (root === null) throw new Error('index.html lacks <div id="app">');
render(<App />, root);

/** Data of the events that are not messages (status is relayed by the leader tab). */
type Signal = { online: number; author: string } & [
  ConnectionStatus,
  number | null,
];

// Newest id this tab has seen: where its stream resumes if it takes over.
let lastId = 0;
// The latest status and presence events, for tabs that join later.
const latest: Record<string, string> = {};
let stream: EventStreamHandle | undefined;

function receive(message: unknown): void {
  if (!isMessage(message)) return;
  lastId = Math.max(lastId, message.id);
  chat.receiveMessage(message);
}

// Events from this tab's own stream and those relayed by the leader tab take
// the same path.
function handle(type: string, data: string): void {
  try {
    const value: Signal = JSON.parse(data);
    latest[type] = data;
    if (type === "message") receive(value);
    if (type === "presence") chat.setPresence(value.online);
    if (type === "typing") chat.noteTyping(value.author);
    if (type === "status") chat.setStatus(value[0], value[1]);
    if (type === "sync" && stream) {
      for (const t of ["status", "presence"]) relay(t, latest[t]);
    }
  } catch {
    // A garbled event is skipped; the next one may be fine.
  }
}

const relay = joinTabs({
  onRelay: handle,
  onLead() {
    const emit = (type: string, data: string) => {
      handle(type, data);
      relay(type, data);
    };
    stream = connectEventStream({
      since: lastId || null,
      onEvent: emit,
      onStatus: (next, at) => emit("status", JSON.stringify([next, at])),
    });
  },
  onFollow() {
    // The leader's stream gave its history before this tab existed.
    relay("sync", "0");
    fetch("/messages").then((res) => res.json()).then(
      (page: { messages: Message[] }) => page.messages.forEach(receive),
    ).catch(() => {});
  },
});

// Another tab confirmed or discarded a send this tab also shows.
addEventListener("storage", chat.syncOutbox);
chat.setOffline(!navigator.onLine);
addEventListener("offline", () => chat.setOffline(true));
addEventListener("online", () => {
  chat.setOffline(false);
  stream?.retryNow();
  chat.retryFailed();
});
