/** A message as the API sends it. */
export interface WireMessage {
  id: number;
  author: string;
  text: string;
  createdAt: string;
  clientId: string | null;
}

/** A POST /messages answer with an expected status. */
export interface PostAnswer {
  status: number;
  message: WireMessage;
}

/** `value` as a message, or null when it does not have a message's shape. */
export function asWireMessage(value: unknown): WireMessage | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (
    typeof v.id !== "number" || !Number.isSafeInteger(v.id) ||
    typeof v.author !== "string" || typeof v.text !== "string" ||
    typeof v.createdAt !== "string" ||
    !(v.clientId === null || typeof v.clientId === "string")
  ) {
    return null;
  }
  return {
    id: v.id,
    author: v.author,
    text: v.text,
    createdAt: v.createdAt,
    clientId: v.clientId,
  };
}

/** The message in a JSON text, or null when it is not one. */
export function parseWireMessage(text: string): WireMessage | null {
  try {
    return asWireMessage(JSON.parse(text));
  } catch {
    return null;
  }
}

/** One string per message content, so two renderings can be compared. */
export function canonical(m: WireMessage): string {
  return JSON.stringify([m.id, m.author, m.text, m.createdAt, m.clientId]);
}
