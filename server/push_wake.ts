/**
 * How the push dispatcher hears of new messages: the listener hands every
 * committed message to the hub, once and in order, back-filled after a lost
 * connection, so a hub that also pokes the dispatcher gets all of that for
 * free, with no second LISTEN connection and no extra NOTIFY per post.
 */
import type { Hub } from "./hub.ts";
import type { Message } from "./message.ts";

/** `hub` with `onPublish` called after each publish; everything else passes through. */
export function hubWithPublishTap(
  hub: Hub,
  onPublish: (message: Message) => void,
): Hub {
  return {
    subscribe: (subscriber) => hub.subscribe(subscriber),
    publish(message) {
      hub.publish(message);
      onPublish(message);
    },
    signal: (event, data) => hub.signal(event, data),
    setRemoteOnline: (count) => hub.setRemoteOnline(count),
    refreshPresence: () => hub.refreshPresence(),
    get presence() {
      return hub.presence;
    },
    get size() {
      return hub.size;
    },
    close: () => hub.close(),
  };
}
