/**
 * Held messages reach their author's streams only: a stream opened under
 * the claim that posted one gets it as a `message` event with `held: true`
 * and no SSE id (it is not a change, so no resume point moves past it).
 * Live through plaza_held (any instance may have held it; the message is in
 * the payload when it fits); on (re)connect as the stream goes live. Approval and rejection reach everyone as a
 * `delete` of the held id (db/migrations/018).
 */
import { MESSAGE_EVENT } from "../../protocol/events.ts";
import type { Message } from "../../protocol/message.ts";
import type { RuleStore } from "../store/rule_store.ts";
import type { Hub } from "./hub.ts";
import type { SignalHandler } from "./notify_listener.ts";
import { encodeText, formatEvent } from "./sse_format.ts";

/** Held messages as `message` events without ids, in one chunk; null for none. */
export function encodeHeldMessages(
  messages: readonly Message[],
): Uint8Array | null {
  if (messages.length === 0) return null;
  return encodeText(
    messages.map((m) =>
      formatEvent({ event: MESSAGE_EVENT, data: JSON.stringify(m) })
    ).join(""),
  );
}

/** A claim's held messages as events, for a stream of that claim going live. */
export function heldEventsOf(
  store: Pick<RuleStore, "held">,
): (nameId: number) => Promise<Uint8Array | null> {
  return async (nameId) =>
    encodeHeldMessages((await store.held(nameId)).map((h) => h.message));
}

/** The plaza_held handler: reads the held message and tells its author's streams here, if any. */
export function heldSignal(
  hub: Pick<Hub, "hasName" | "tell">,
  store: Pick<RuleStore, "heldMessage">,
  onError: (message: string, error: unknown) => void,
): SignalHandler {
  return (payload) => {
    // Anyone who can NOTIFY can also write the tables: a payload is
    // trusted as the change log's are, once it has the shape of one.
    let note: { id?: unknown; nameId?: unknown; message?: Partial<Message> };
    try {
      note = JSON.parse(payload);
    } catch {
      return;
    }
    const { id, nameId, message: sent } = note ?? {};
    if (!Number.isSafeInteger(id) || !Number.isSafeInteger(nameId)) return;
    if (!hub.hasName(nameId as number)) return;
    if (
      typeof sent === "object" && sent !== null && sent.id === id &&
      typeof sent.author === "string" && typeof sent.text === "string" &&
      sent.held === true
    ) {
      // At once: before an approval's or rejection's delete, which the
      // listener hears after this.
      hub.tell(nameId as number, encodeHeldMessages([sent as Message])!);
      return;
    }
    store.heldMessage(id as number, nameId as number).then((message) => {
      // Approved or rejected already: its delete is on its way instead.
      if (message === null) return;
      const bytes = encodeHeldMessages([message]);
      if (bytes !== null) hub.tell(nameId as number, bytes);
    }).catch((error) => onError("Could not read a held message", error));
  };
}
