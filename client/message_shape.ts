import type { Message } from "../server/message.ts";

/** True when an untrusted value (parsed JSON) has the shape of a Message. */
export function isMessage(value: unknown): value is Message {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return Number.isSafeInteger(v.id) && typeof v.author === "string" &&
    typeof v.text === "string" && typeof v.createdAt === "string" &&
    // Absent only from a server older than clientId; treated like null.
    typeof (v.clientId ?? "") === "string";
}

/** Parses an SSE `data:` payload into a Message, or null when it is not one. */
export function parseMessage(data: string): Message | null {
  try {
    const value: unknown = JSON.parse(data);
    return isMessage(value) ? value : null;
  } catch {
    // A garbled event must not break the stream; the next one may be fine.
    return null;
  }
}
