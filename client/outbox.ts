/**
 * The outbox: sends not yet confirmed by the server, kept in localStorage so a
 * reload or a closed tab never loses what the reader typed. Every item keeps
 * its clientId for life, so a retry the server already stored is answered
 * with the original instead of being stored twice.
 */
import type { Message } from "../protocol/message.ts";
import type { FetchLike } from "./fetch_like.ts";
import { isMessage } from "./message_shape.ts";

/** localStorage key of the outbox, shared by every tab of the browser. */
export const OUTBOX_KEY = "plaza.outbox";

/** A message on its way: "sending" while a POST is out, "failed" after. */
export interface OutboxItem {
  clientId: string;
  author: string;
  text: string;
  state: "sending" | "failed";
  /** The id of the message this one answers. */
  replyTo?: number;
  /** Why the last attempt failed, as a sentence. */
  error?: string;
  /** The server refused it (4xx): retrying unchanged would fail again. */
  refused?: boolean;
  /** Refused because someone else holds the name: a retry goes under the reader's current name. */
  taken?: boolean;
  /** Pictures to send with it, kept by client/attach until they are uploaded and posted. */
  images?: readonly PendingImage[];
}

/** A picture picked for a send: its key in client/attach's IndexedDB store, and its alt text. */
export interface PendingImage {
  key: string;
  alt: string;
}

/** What one delivery attempt came to. */
export type Delivery = { message: Message } | {
  error: string;
  refused: boolean;
  /** The name's token was refused: see OutboxItem.taken. */
  taken?: boolean;
};

/** The part of Storage the outbox uses. */
export interface OutboxStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** A random UUID; crypto.randomUUID exists only on https and localhost. */
export function newClientId(): string {
  // Elsewhere a blob: URL ends in a fresh random UUID, and costs fewer bytes.
  return crypto.randomUUID?.() ??
    URL.createObjectURL(new Blob()).slice(-36).toLowerCase();
}

/** The stored value under `key`, or "" when there is none or storage throws (blocked cookies, private modes). */
export function read(storage: OutboxStorage | null, key: string): string {
  try {
    return storage?.getItem(key) ?? "";
  } catch {
    return "";
  }
}

/** Stores a value; full or blocked storage is survived (the value still holds in memory for this visit). */
export function write(
  storage: OutboxStorage | null,
  key: string,
  value: string,
): void {
  try {
    storage?.setItem(key, value);
  } catch {
    // Nothing more to do: the caller keeps its copy.
  }
}

/** Reads the stored outbox; a send cut short by a closed page counts as failed. */
export function readOutbox(storage: OutboxStorage | null): OutboxItem[] {
  try {
    const list: (OutboxItem | null)[] = JSON.parse(
      read(storage, OUTBOX_KEY) || "[]",
    );
    return list.filter((i) => i?.clientId && (i.text || i.images))
      .map((i) => ({ ...i!, state: "failed" }));
  } catch {
    // Corrupt, foreign (not a list) or blocked storage: start empty rather
    // than break the page.
    return [];
  }
}

/** Stores one item, or removes it when there is none; other tabs' items stay. */
export function storeOutboxItem(
  storage: OutboxStorage | null,
  clientId: string,
  item?: OutboxItem,
): void {
  const rest = readOutbox(storage).filter((i) => i.clientId !== clientId);
  write(storage, OUTBOX_KEY, JSON.stringify(item ? [...rest, item] : rest));
}

/** What a call to the server came to: the status and JSON body of its answer, or why there was none. */
export type Answer = { status: number; body: Record<string, unknown> } | {
  error: string;
  refused: false;
};

/**
 * Sends one request to the server (a form body, the name's token when given)
 * and reads its JSON answer; never throws. A network failure or a hang past
 * timeoutMs (0: none) is an error worth retrying.
 */
export async function call(
  fetch: FetchLike,
  path: string,
  method: string,
  fields: Record<string, string | number | undefined>,
  token?: string,
  timeoutMs = 0,
): Promise<Answer> {
  const body = new URLSearchParams();
  for (const k in fields) {
    if (fields[k] !== undefined) body.set(k, `${fields[k]}`);
  }
  try {
    const res = await fetch(path, {
      method,
      body,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      signal: timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : null,
    });
    // Proxies answer errors with HTML; an empty body reads as {}.
    return { status: res.status, body: await res.json().catch(() => ({})) };
  } catch (e) {
    return {
      error: (e as Error).name === "TimeoutError"
        ? "The server took too long to answer."
        : "Could not reach the server.",
      refused: false,
    };
  }
}

/** An error answer as a sentence, and whether retrying unchanged would fail again. */
export function failure(
  { status, body }: { status: number; body: { error?: unknown } },
): { error: string; refused: boolean } {
  return {
    error: `${body.error || `The server answered ${status}.`}`,
    // 408 and 429 are about timing, not content: those may be retried.
    refused: status < 500 && ![408, 429].includes(status),
  };
}

/** POSTs an item to /messages once (with the name's token, if any) and says what came of it; never throws. */
export async function deliver(
  fetch: FetchLike,
  { author, text, clientId, replyTo }: OutboxItem,
  timeoutMs: number,
  token?: string,
): Promise<Delivery> {
  const answer = await call(
    fetch,
    "/messages",
    "POST",
    { author, text, clientId, replyTo },
    token,
    timeoutMs,
  );
  return "error" in answer
    ? answer
    : answer.status < 300 && isMessage(answer.body)
    ? { message: answer.body }
    // The token this device kept no longer holds the name.
    : answer.status === 403 && token
    ? {
      error:
        `This device no longer holds the name “${author}”: it was moved to another device or released. Choose another name.`,
      refused: true,
      taken: true,
    }
    : failure(answer);
}
