/**
 * The one module that holds shared client state as signals. Components read the
 * signals and change state only through the named actions, so every change has
 * one place to look for.
 */
import { type ReadonlySignal, signal } from "@preact/signals";
import type { Message } from "../server/message.ts";
import type { ConnectionStatus } from "./event_stream.ts";
import { isMessage } from "./message_shape.ts";

// Same limits as MAX_AUTHOR_LENGTH / MAX_TEXT_LENGTH in server/message.ts; the
// client imports only types from the server, so keep these two in step.
/** Most characters (code points) a name may have. */
export const MAX_AUTHOR_LENGTH = 32;
/** Most characters (code points) a message text may have. */
export const MAX_TEXT_LENGTH = 2000;

/** localStorage key under which the chosen name survives reloads. */
export const NAME_STORAGE_KEY = "plaza.name";

/** Messages kept in memory; older ones are dropped so a long session stays light. */
export const MAX_KEPT_MESSAGES = 500;

/** Default time a POST may take before we tell the reader it failed. */
export const SEND_TIMEOUT_MS = 20_000;

// The server refuses these too (see server/message.ts); checking here gives a
// clearer sentence than a round trip would.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** The part of Storage used for the name, so tests can pass a Map-backed fake. */
export interface NameStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The part of fetch used to post messages. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Dependencies of a chat state; all optional so tests pass only fakes they need. */
export interface ChatStateOptions {
  /** Where the name persists; null keeps it in memory only. */
  storage?: NameStorage | null;
  /** HTTP client used by sendMessage. */
  fetch?: FetchLike;
  /** Endpoint for posting; defaults to "/messages". */
  postUrl?: string;
  /** Milliseconds before a send is abandoned; 0 disables the timeout. */
  sendTimeoutMs?: number;
}

/** A name check result: the cleaned name or a sentence for the reader. */
export type NameCheck = { ok: true; value: string } | {
  ok: false;
  error: string;
};

/** Readable state plus the actions that are the only way to change it. */
export interface ChatState {
  /** Messages sorted by id, each id once. */
  readonly messages: ReadonlySignal<readonly Message[]>;
  /** The reader's name, or null until they choose one. */
  readonly name: ReadonlySignal<string | null>;
  /** Connection status of the live stream. */
  readonly status: ReadonlySignal<ConnectionStatus>;
  /** True while a message is being posted. */
  readonly sending: ReadonlySignal<boolean>;
  /** Why the last send failed, as a sentence, or null. */
  readonly sendError: ReadonlySignal<string | null>;
  /** Adds a message from the stream or a POST reply; repeats and stale ids are ignored. */
  receiveMessage(message: Message): void;
  /** Sets and persists the name; false (and no change) when checkName rejects it. */
  setName(raw: string): boolean;
  /** Records the stream's connection status. */
  setStatus(status: ConnectionStatus): void;
  /** Posts a message as the current name; true when the server stored it. */
  sendMessage(text: string): Promise<boolean>;
  /** Hides the last send error, e.g. once the reader edits the draft. */
  clearSendError(): void;
}

/** Counts characters the way the server does: Unicode code points. */
export function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Trims and normalises a name and checks it against the server's rules. */
export function checkName(raw: string): NameCheck {
  const value = raw.normalize("NFC").trim();
  if (value === "") return { ok: false, error: "Please enter a name." };
  const length = charCount(value);
  if (length > MAX_AUTHOR_LENGTH) {
    return {
      ok: false,
      error:
        `Names can be at most ${MAX_AUTHOR_LENGTH} characters (this one has ${length}).`,
    };
  }
  if (CONTROL.test(value)) {
    return { ok: false, error: "Names cannot contain control characters." };
  }
  return { ok: true, value };
}

function errorSentence(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const error = (body as Record<string, unknown>).error;
  return typeof error === "string" && error.trim() !== "" ? error : null;
}

function readStoredName(storage: NameStorage | null): string | null {
  try {
    const stored = storage?.getItem(NAME_STORAGE_KEY) ?? null;
    if (stored === null) return null;
    const checked = checkName(stored);
    return checked.ok ? checked.value : null;
  } catch {
    // Storage can throw (blocked cookies, private modes); ask for a name instead.
    return null;
  }
}

/** Creates an independent chat state; the app uses the default `chat` below. */
export function createChatState(options: ChatStateOptions = {}): ChatState {
  const storage = options.storage ?? null;
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const postUrl = options.postUrl ?? "/messages";
  const timeoutMs = options.sendTimeoutMs ?? SEND_TIMEOUT_MS;

  const messages = signal<readonly Message[]>([]);
  const name = signal<string | null>(readStoredName(storage));
  const status = signal<ConnectionStatus>("connecting");
  const sending = signal(false);
  const sendError = signal<string | null>(null);
  const seen = new Set<number>();
  // Ids at or below this were dropped for MAX_KEPT_MESSAGES; a late replay of
  // one must not reappear at the top of the list.
  let floor = -Infinity;

  function receiveMessage(message: Message): void {
    if (seen.has(message.id) || message.id <= floor) return;
    seen.add(message.id);
    const list = messages.value;
    const last = list.at(-1);
    let next: Message[];
    if (last === undefined || last.id < message.id) {
      next = [...list, message];
    } else {
      // Rare: a POST reply overtaken by the stream, or a backlog after reconnect.
      const at = list.findIndex((m) => m.id > message.id);
      next = [...list.slice(0, at), message, ...list.slice(at)];
    }
    if (next.length > MAX_KEPT_MESSAGES) {
      const dropped = next.splice(0, next.length - MAX_KEPT_MESSAGES);
      for (const m of dropped) seen.delete(m.id);
      floor = dropped[dropped.length - 1].id;
    }
    messages.value = next;
  }

  function setName(raw: string): boolean {
    const checked = checkName(raw);
    if (!checked.ok) return false;
    name.value = checked.value;
    try {
      storage?.setItem(NAME_STORAGE_KEY, checked.value);
    } catch {
      // Full or blocked storage: the name still works for this visit.
    }
    return true;
  }

  function setStatus(next: ConnectionStatus): void {
    status.value = next;
  }

  function clearSendError(): void {
    sendError.value = null;
  }

  async function sendMessage(raw: string): Promise<boolean> {
    const text = raw.trim();
    const author = name.value;
    if (sending.value || text === "") return false;
    if (author === null) {
      sendError.value = "Choose a name before sending.";
      return false;
    }
    if (charCount(text) > MAX_TEXT_LENGTH) {
      sendError.value =
        `Messages can be at most ${MAX_TEXT_LENGTH} characters.`;
      return false;
    }
    sending.value = true;
    sendError.value = null;
    const abort = new AbortController();
    const timer = timeoutMs > 0
      ? setTimeout(() => abort.abort(), timeoutMs)
      : undefined;
    try {
      const res = await doFetch(postUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ author, text }),
        signal: abort.signal,
      });
      // Proxies answer errors with HTML; fall back to a generic sentence then.
      const body: unknown = await res.json().catch(() => null);
      if (!res.ok) {
        sendError.value = errorSentence(body) ??
          `The server could not take the message (HTTP ${res.status}). Please try again.`;
        return false;
      }
      // Show our own message at once instead of waiting for the stream echo;
      // the id dedupe drops the echo.
      if (isMessage(body)) receiveMessage(body);
      return true;
    } catch {
      sendError.value = abort.signal.aborted
        ? "The server took too long to answer. Please try again."
        : "Could not reach the server. Check your connection and try again.";
      return false;
    } finally {
      clearTimeout(timer);
      sending.value = false;
    }
  }

  return {
    messages,
    name,
    status,
    sending,
    sendError,
    receiveMessage,
    setName,
    setStatus,
    sendMessage,
    clearSendError,
  };
}

function browserStorage(): NameStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // Accessing localStorage itself throws when the browser blocks storage.
    return null;
  }
}

/** The page's chat state, shared by main.tsx and the components. */
export const chat: ChatState = createChatState({ storage: browserStorage() });
