/** Entry point: renders the app, lets one tab hold the stream for all, and routes events into the chat state. */
import { effect, signal } from "@preact/signals";
import { h, render } from "preact";
import {
  DELETE_EVENT,
  EDIT_EVENT,
  MESSAGE_EVENT,
  PRESENCE_EVENT,
  type PresenceEvent,
  PREVIEW_EVENT,
  type PreviewEvent,
  REACTION_EVENT,
  type ReactionEvent,
  ROOM_EVENT,
  type RoomEvent,
  TYPING_EVENT,
  type TypingEvent,
} from "../protocol/events.ts";
import { chat } from "./chat_state.ts";
import { App } from "./components/app.tsx";
import {
  connectEventStream,
  type ConnectionStatus,
  type EventStreamHandle,
} from "./event_stream.ts";
import { isMessage } from "./message_shape.ts";
import type { PwaModule, StreamLink } from "./pwa/host.ts";
import { joinTabs } from "./tab_leader.ts";
import { markdown } from "./markdown.ts";
import "./styles.css";

/** URLs of the lazy chunks, filled in by tools/build_client.ts. */
declare const PLAZA_PWA_CHUNK: string,
  PLAZA_EXTRAS_CHUNK: string,
  PLAZA_ROOM_CHUNK: string;

render(<App />, document.getElementById("app")!);

// The installed-app side (offline copy, install, notifications) comes in its
// own chunk, sharing this bundle's Preact, signals and state.
// So do the message menu, edits, reactions, replies and moving a name.
// The extras chunk puts the reader's name on the stream (a ticket fetched
// per connect) through `link`.
const link: StreamLink = {
  // Not `get: fetch`: called as link.get(), fetch would get `link` as its
  // receiver and throw "Illegal invocation", so no stream opened until the
  // extras chunk replaced it.
  get: (url, init) => fetch(url, init),
  restart: () => stream?.restart(),
};
// The room chunk shows the pinned notice and closes the composer in a
// lockdown, from the latest room event.
const room = signal<RoomEvent | null>(null);
for (const url of [PLAZA_PWA_CHUNK, PLAZA_EXTRAS_CHUNK, PLAZA_ROOM_CHUNK]) {
  import(url).then((m: PwaModule) =>
    m.start({ h, render, signal, effect, chat, link, room, markdown })
  );
}

/** Data of the events that are not messages (status is relayed by the leader tab). */
type Signal =
  & PresenceEvent
  & TypingEvent
  & ReactionEvent
  & RoomEvent
  & PreviewEvent
  & [
    ConnectionStatus,
    number | null,
  ];

// The latest status, presence and room events, for tabs that join later.
const latest: Record<string, string> = {};
let stream: EventStreamHandle | undefined;
let streamStatus: [ConnectionStatus, number | null] = ["connecting", null];

// Events from this tab's own stream and those relayed by the leader tab take
// the same path.
function handle(type: string, data: string): void {
  try {
    const value: Signal = JSON.parse(data);
    latest[type] = data;
    if (type === MESSAGE_EVENT && isMessage(value)) chat.receiveMessage(value);
    if (type === PRESENCE_EVENT) chat.setPresence(value.online, value.names);
    if (type === TYPING_EVENT) chat.noteTyping(value.author);
    if (type === DELETE_EVENT) chat.removeMessage(value.id);
    if (type === EDIT_EVENT && isMessage(value)) chat.editMessage(value);
    if (type === REACTION_EVENT) chat.setReactions(value.id, value.reactions);
    if (type === ROOM_EVENT) {
      chat.setSlowMode(value.slowMode), room.value = value;
    }
    if (type === PREVIEW_EVENT) chat.setPreview(value.id, value.preview);
    if (type === "status") {
      streamStatus = value;
      showStatus();
    }
    if (type === "sync" && stream) {
      for (const t of ["status", PRESENCE_EVENT, ROOM_EVENT]) {
        relay(t, latest[t]);
      }
    }
  } catch {
    // A garbled event is skipped; the next one may be fine.
  }
}

const relay = joinTabs(
  handle,
  () => {
    // After what this tab already has, not after the last message shown:
    // far up in scrollback, that one is old.
    stream = connectEventStream(
      (type, data) => {
        handle(type, data);
        relay(type, data);
      },
      chat.newestId(),
      (url, init) => link.get(url, init),
    );
  },
  () => {
    // The leader's stream gave its history before this tab existed.
    relay("sync", "0");
    void chat.loadLatest();
  },
);

// Another tab confirmed or discarded a send this tab also shows.
addEventListener("storage", chat.syncOutbox);
// What the browser says about its network goes before the stream's status,
// whose last word is kept for when the network is back.
function showStatus(): void {
  chat.setStatus(
    navigator.onLine ? streamStatus[0] : "offline",
    streamStatus[1],
  );
}
showStatus();
addEventListener("offline", showStatus);
addEventListener("online", () => {
  stream?.retryNow();
  // Live again, if the stream held: failed sends go again.
  showStatus();
});
