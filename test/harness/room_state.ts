/**
 * What a client makes of the change events, the way docs/api.md tells it
 * to, and a client that drops its stream at random points and resumes with
 * Last-Event-ID: tests compare what such clients end up with to GET
 * /messages.
 */
import assert from "node:assert/strict";
import { type Message, REPLY_QUOTE_LENGTH } from "../../protocol/message.ts";
import { openSse, type SseClient, type SseEvent } from "./sse_client.ts";

/** The room as a client holds it: messages by id. */
export type RoomState = Map<number, Message>;

/** The quote of `text` in a reply, as the server cuts it. */
export function quoteOf(text: string): string {
  const chars = [...text];
  return chars.length > REPLY_QUOTE_LENGTH
    ? chars.slice(0, REPLY_QUOTE_LENGTH).join("") + "…"
    : text;
}

/** Applies one change event (message, edit, reaction, preview, delete) to `state`; other events are ignored. */
export function applyEvent(state: RoomState, event: SseEvent): void {
  const changes = ["message", "edit", "reaction", "preview", "delete"];
  if (!changes.includes(event.event)) return;
  const data = JSON.parse(event.data);
  switch (event.event) {
    case "message":
      state.set(data.id, data);
      return;
    case "edit":
      if (state.has(data.id)) state.set(data.id, data);
      // Replies quote it as it is now.
      for (const [id, m] of state) {
        if (m.replyTo?.id === data.id) {
          state.set(id, {
            ...m,
            replyTo: {
              id: data.id,
              author: data.author,
              text: quoteOf(data.text),
            },
          });
        }
      }
      return;
    case "reaction": {
      const m = state.get(data.id);
      if (m) state.set(data.id, { ...m, reactions: data.reactions });
      return;
    }
    case "preview": {
      const m = state.get(data.id);
      if (m) state.set(data.id, { ...m, preview: data.preview });
      return;
    }
    case "delete":
      state.delete(data.id);
      for (const [id, m] of state) {
        if (m.replyTo?.id === data.id) {
          state.set(id, {
            ...m,
            replyTo: { id: data.id, author: null, text: null },
          });
        }
      }
      return;
  }
}

/** Every message GET /messages gives, paging forward from the start. */
export async function allMessages(baseUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  let after = 0;
  for (;;) {
    const res = await fetch(`${baseUrl}/messages?after=${after}&limit=200`);
    assert.equal(res.status, 200);
    const page: { messages: Message[]; hasMore: boolean } = await res.json();
    out.push(...page.messages);
    if (!page.hasMore) return out;
    after = page.messages.at(-1)!.id;
  }
}

/** The state's messages in id order, for comparing with allMessages. */
export function messagesIn(state: RoomState): Message[] {
  return [...state.values()].sort((a, b) => a.id - b.id);
}

/** A client that resumes at random points; see resumingClient. */
export interface ResumingClient {
  state: RoomState;
  /** Every change event id handled, in order. */
  seen: number[];
  /** Resolves once the client has handled change `id` (or later), then stops it. */
  finish(id: number): Promise<void>;
}

/**
 * Starts a client that reads the room from the start (`?since=0`) on one of
 * `urls`, and after a random number of change events (1–`maxRun`) drops the
 * stream and resumes with `Last-Event-ID` on a random one. Each event id is
 * checked to be larger than the last: every change once, in order. A stream
 * that fails (the database restarting) is simply resumed after a moment.
 */
export function resumingClient(
  urls: string[],
  random: () => number,
  maxRun = 15,
): ResumingClient {
  const state: RoomState = new Map();
  const seen: number[] = [];
  let last: number | null = null;
  let target: number | null = null;
  const done = () => target !== null && last !== null && last >= target;
  const loop = (async () => {
    let first = true;
    while (!done()) {
      const url = urls[Math.floor(random() * urls.length)];
      const run = 1 + Math.floor(random() * maxRun);
      let stream: SseClient;
      try {
        stream = first
          ? await openSse(`${url}/stream?since=0`)
          : await openSse(`${url}/stream`, { lastEventId: last ?? 0 });
      } catch {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const changes = (events: SseEvent[]) =>
        events.filter((e) => e.id !== undefined);
      try {
        if (stream.response.status !== 200) {
          throw new Error(`status ${stream.response.status}`);
        }
        // Heartbeats re-check this, so a target set later is noticed.
        await stream.until((events) => {
          const got = changes(events);
          const top = got.length > 0 ? Number(got.at(-1)!.id) : last;
          return got.length >= run ||
            (target !== null && top !== null && top >= target);
        });
      } catch {
        // The stream ended early (or never started): resume below.
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        await stream.close();
      }
      for (const event of changes(stream.events)) {
        const id = Number(event.id);
        assert.ok(
          last === null || id > last,
          `event id ${id} after ${last}: not once and in order`,
        );
        applyEvent(state, event);
        seen.push(id);
        last = id;
        first = false;
      }
    }
  })();
  return {
    state,
    seen,
    async finish(id) {
      target = id;
      await loop;
    },
  };
}
