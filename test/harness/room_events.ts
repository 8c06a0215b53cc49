/**
 * The `room` events (slow mode, the notice, the lockdown) a test's SSE
 * stream got, and a bounded wait for one: shared by the system tests of the
 * room's settings.
 */
import type { RoomEvent } from "../../protocol/events.ts";
import type { SseClient } from "./sse_client.ts";

/** How long untilRoom waits by default. */
export const ROOM_WAIT_MS = 10_000;

/** The `room` events a stream got, parsed. */
export function roomEvents(stream: SseClient): RoomEvent[] {
  return stream.events.filter((e) => e.event === "room").map((e) =>
    JSON.parse(e.data)
  );
}

/** Waits until the stream's latest room event satisfies `holds`, failing after `ms`. */
export async function untilRoom(
  stream: SseClient,
  holds: (room: RoomEvent) => boolean,
  ms = ROOM_WAIT_MS,
): Promise<RoomEvent> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const latest = () => roomEvents(stream).at(-1);
  try {
    await Promise.race([
      stream.until(() => {
        const room = latest();
        return room !== undefined && holds(room);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `no such room event within ${ms} ms: ${
                  JSON.stringify(roomEvents(stream))
                }`,
              ),
            ),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return latest()!;
}
