import type { Message } from "../protocol/message.ts";

/**
 * True when an untrusted value (parsed JSON) can be shown as a Message: an
 * integer id, a string author and text. The rest is only displayed or
 * compared, so a wrong type there cannot break the page.
 */
export function isMessage(value: unknown): value is Message {
  const m = value as Message | null;
  return Number.isSafeInteger(m?.id) && typeof m!.author === "string" &&
    typeof m!.text === "string";
}
