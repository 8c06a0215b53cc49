/** Turns the message list into rows: who starts a group, where a new day begins. */
import type { Message } from "../protocol/message.ts";
import { sameDay } from "./relative_time.ts";

/** Messages by one author this close together share one name header. */
export const GROUP_WINDOW_MS = 5 * 60_000;

/**
 * One message as the list shows it: its time in epoch ms (0 if unparseable,
 * so formatting never throws), whether it starts a group (name and avatar),
 * whether it starts a local day (a separator goes before it), and whether
 * this device sent it. A tuple rather than an object keeps the bundle small.
 */
export type MessageRow = [
  message: Message,
  at: number,
  head: boolean,
  newDay: boolean,
  own: boolean,
];

/**
 * Rows for messages sorted by id; grouping looks only at the previous
 * message. Own and others' messages never share a group, even under one
 * name: a message posted as the reader from elsewhere gets its own header.
 */
export function messageRows(
  messages: readonly Message[],
  isOwn: (message: Message) => boolean,
): MessageRow[] {
  let prev: MessageRow | undefined;
  return messages.map((message) => {
    const at = Date.parse(message.createdAt) || 0;
    const own = isOwn(message);
    const newDay = !prev || !sameDay(prev[1], at);
    // A claimed name's ✓ is in the header: an unclaimed use of the same
    // name starts a group of its own.
    const head = !prev || newDay || prev[0].author !== message.author ||
      !prev[0].verified !== !message.verified ||
      prev[4] !== own || at - prev[1] >= GROUP_WINDOW_MS;
    return prev = [message, at, head, newDay, own];
  });
}
