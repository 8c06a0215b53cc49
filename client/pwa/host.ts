import type { h, render } from "preact";
import type { effect, ReadonlySignal, signal } from "@preact/signals";
import type { RoomEvent } from "../../protocol/events.ts";
import type { ChatState } from "../chat_state.ts";
import type { markdown } from "../markdown.ts";

/**
 * What main.tsx lends the lazily loaded chunk (client/pwa/pwa.ts): its
 * Preact, its signals runtime and the page's chat state. Imported instead,
 * they would be bundled a second time, and a second copy sees neither the
 * page's state nor its renderer (tools/build_client.ts refuses that).
 */
export interface Host {
  h: typeof h;
  render: typeof render;
  signal: typeof signal;
  effect: typeof effect;
  chat: ChatState;
  /** This tab's stream, when it holds one (the leader tab). */
  link: StreamLink;
  /** The room's settings from the latest `room` event (null before the first). */
  room: ReadonlySignal<RoomEvent | null>;
  /** The page's markdown renderer, so a chunk draws text as the log does without a copy of its own. */
  markdown: typeof markdown;
}

/** What a chunk that does not touch the stream needs (client/search). */
export type PageHost = Omit<Host, "link" | "room" | "markdown">;

/** How the lazy chunk shapes this tab's stream: its fetch, and a reconnect now. */
export interface StreamLink {
  /** Opens a stream URL (the chunk adds `name` and `ticket`). */
  get: (url: string, init: RequestInit) => Promise<Response>;
  /** Reconnects at once, e.g. after the name changed. */
  restart(): void;
}

/** The chunk's module: main.tsx calls start once it has loaded. */
export interface PwaModule {
  start(host: Host): void;
}
