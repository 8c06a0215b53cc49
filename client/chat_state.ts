/**
 * The one module that holds shared client state as signals. Components read the
 * signals and change state only through the named actions, so every change has
 * one place to look for.
 */
import { type ReadonlySignal, signal } from "@preact/signals";
import type { Message } from "../server/message.ts";
import type { ConnectionStatus } from "./event_stream.ts";
import { isMessage } from "./message_shape.ts";
import {
  deliver,
  newClientId,
  type OutboxItem,
  readOutbox,
  storeOutboxItem,
} from "./outbox.ts";

// Same limits as MAX_AUTHOR_LENGTH / MAX_TEXT_LENGTH in server/message.ts; the
// client imports only types from the server, so keep these two in step.
/** Most characters (code points) a name may have. */
export const MAX_AUTHOR_LENGTH = 32;
/** Most characters (code points) a message text may have. */
export const MAX_TEXT_LENGTH = 2000;

/** localStorage key under which the chosen name survives reloads. */
export const NAME_STORAGE_KEY = "plaza.name";

/** Most messages in the list (and the DOM); the far end is dropped beyond it and fetched again on scroll. */
export const MAX_KEPT_MESSAGES = 300;
/** Messages per scrollback request. */
export const PAGE_SIZE = 50;
// The server's largest `limit`, used to fetch a dropped stretch back.
const GAP_PAGE = 200;

/** Default time a POST may take before we tell the reader it failed. */
export const SEND_TIMEOUT_MS = 20_000;

/** How long "ada is typing…" stays after her last typing event. */
export const TYPING_SHOWN_MS = 4_000;

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
  /** Milliseconds a typing event is shown; defaults to TYPING_SHOWN_MS. */
  typingMs?: number;
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
  /** While reconnecting: when the next attempt starts (epoch ms), else null. */
  readonly retryAt: ReadonlySignal<number | null>;
  /** True while the browser says it has no network. */
  readonly offline: ReadonlySignal<boolean>;
  /** Sends not yet confirmed, oldest first. */
  readonly outbox: ReadonlySignal<readonly OutboxItem[]>;
  /** Open streams across the room (browsers, not tabs), or null before the first count. */
  readonly online: ReadonlySignal<number | null>;
  /** Other people typing right now. */
  readonly typing: ReadonlySignal<readonly string[]>;
  /** True while older messages than the first shown may exist. */
  readonly hasOlder: ReadonlySignal<boolean>;
  /** True while a page of older messages is being fetched. */
  readonly loadingOlder: ReadonlySignal<boolean>;
  /** True when newer messages than the last shown exist (the reader is far up). */
  readonly hasNewer: ReadonlySignal<boolean>;
  /** Messages that arrived while the reader was not following the end. */
  readonly unread: ReadonlySignal<number>;
  /** Adds a message from the stream or a POST reply; repeats and stale ids are ignored. */
  receiveMessage(message: Message): void;
  /** Fetches the page before the first message shown. */
  loadOlder(): Promise<void>;
  /** Fetches the messages after the last shown; with latest, the newest page instead. */
  loadNewer(latest?: boolean): Promise<void>;
  /** Records whether the reader sees the end (at the bottom, tab visible); while not, new messages count as unread. */
  setFollowing(following: boolean): void;
  /** Sets and persists the name; false (and no change) when checkName rejects it. */
  setName(raw: string): boolean;
  /** Records the stream's status; going live retries failed sends. */
  setStatus(status: ConnectionStatus, retryAt?: number | null): void;
  /** Records what the browser says about its network. */
  setOffline(offline: boolean): void;
  /** Queues a message as the current name and posts it; false when there is nothing to send. */
  sendMessage(text: string): boolean;
  /** Posts a failed send again, with the same clientId. */
  retrySend(clientId: string): void;
  /** Drops a failed send for good. */
  discardSend(clientId: string): void;
  /** Retries every failed send the server did not refuse, e.g. once back online. */
  retryFailed(): void;
  /** Drops sends another tab confirmed or discarded (call on a storage event). */
  syncOutbox(): void;
  /** Records the room's online count from a presence event. */
  setPresence(online: number): void;
  /** Shows that someone is typing, for a few seconds; the reader's own name is ignored. */
  noteTyping(author: string): void;
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
  const typingMs = options.typingMs ?? TYPING_SHOWN_MS;

  const messages = signal<readonly Message[]>([]);
  const name = signal<string | null>(readStoredName(storage));
  const status = signal<ConnectionStatus>("connecting");
  const retryAt = signal<number | null>(null);
  const offline = signal(false);
  const outbox = signal<readonly OutboxItem[]>(readOutbox(storage));
  const online = signal<number | null>(null);
  const typing = signal<readonly string[]>([]);
  const typers = new Map<string, ReturnType<typeof setTimeout>>();
  // Posts go one after another so messages keep the order they were sent in.
  let queue = Promise.resolve();
  // Ids at or below this were dropped for MAX_KEPT_MESSAGES; a late replay of
  // one must not reappear at the top of the list (scrollback fetches it).
  let floor = -Infinity;
  const hasOlder = signal(true);
  const loadingOlder = signal(false);
  const hasNewer = signal(false);
  const unread = signal(0);
  // Whether the reader sees the newest messages (see setFollowing).
  let following = true;
  // The highest id received; while hasNewer, newer ones are not kept but
  // fetched again when the reader comes back down.
  let newest = 0;
  let busy = false;

  function receiveMessage(message: Message): void {
    // Matched by clientId, whichever comes first: the stream or the POST reply.
    if (message.clientId) putOutbox(message.clientId, null);
    if (typers.has(message.author)) setTyping(message.author, false);
    const { id } = message;
    const list = messages.value;
    if (id > newest) {
      newest = id;
      if (!following || hasNewer.value) unread.value++;
    }
    if (id <= floor || hasNewer.value || list.some((m) => m.id === id)) return;
    // The reader is far up and the list is full: growing it would break the
    // bound, dropping its top would pull the page from under them.
    if (!following && list.length >= MAX_KEPT_MESSAGES) {
      hasNewer.value = true;
      return;
    }
    // Rare out-of-order arrival: a POST reply overtaken by the stream.
    const at = list.findIndex((m) => m.id > id);
    show(
      at < 0 ? [...list, message] : [
        ...list.slice(0, at),
        message,
        ...list.slice(at),
      ],
      false,
    );
  }

  // Shows a sorted, gap-free list, keeping at most MAX_KEPT_MESSAGES: the
  // newest go when dropNewest (to be fetched again), the oldest otherwise.
  function show(list: Message[], dropNewest: boolean): void {
    const extra = list.length - MAX_KEPT_MESSAGES;
    if (extra > 0 && dropNewest) {
      list.length = MAX_KEPT_MESSAGES;
      hasNewer.value = true;
    } else if (extra > 0) {
      floor = list.splice(0, extra)[extra - 1].id;
      hasOlder.value = true;
    }
    messages.value = list;
  }

  // The newest `limit` messages below `before`, and whether more lie below.
  // An error reply (no "messages" array) throws; callers retry later.
  async function getPage(
    before: number,
    limit: number,
  ): Promise<[Message[], boolean]> {
    const res = await doFetch(`${postUrl}?before=${before}&limit=${limit}`, {});
    const body: { messages: unknown[]; hasMore: boolean } = await res.json();
    return [body.messages.filter(isMessage), body.hasMore];
  }

  async function loadOlder(): Promise<void> {
    const first = messages.value[0];
    if (!first || !hasOlder.value || loadingOlder.value) return;
    loadingOlder.value = true;
    try {
      const [older, more] = await getPage(first.id, PAGE_SIZE);
      const list = messages.value;
      // Ask again on the next scroll if the list moved on meanwhile.
      if (list[0] !== first) return;
      hasOlder.value = more;
      // Far up, the newest make way; at the bottom the fetched ones go again.
      show([...older.filter((m) => m.id < first.id), ...list], !following);
    } catch {
      // Offline or a server error: the next scroll to the top tries again.
    } finally {
      loadingOlder.value = false;
    }
  }

  async function loadNewer(latest?: boolean): Promise<void> {
    const list = messages.value;
    if (!hasNewer.value || busy) return;
    busy = true;
    try {
      let from = list.at(-1)?.id ?? 0;
      let add: Message[];
      let done: boolean;
      // The server has no "after": capping `before` at from + GAP_PAGE + 1
      // leaves at most GAP_PAGE ids in range, so one page holds them all.
      // Latest skips to the newest page; scrollback fills in the rest.
      for (;;) {
        const before = latest
          ? newest + 1
          : Math.min(newest, from + GAP_PAGE) + 1;
        const [page] = await getPage(before, latest ? PAGE_SIZE : GAP_PAGE);
        add = page.filter((m) => m.id > from || !!latest);
        // Compared after the wait: messages that arrived during it are
        // not kept, so the list is caught up only if none did.
        done = before > newest;
        if (add.length || done) break;
        from = before - 1;
      }
      if (messages.value !== list) return;
      if (latest) {
        floor = (add[0]?.id ?? newest) - 1;
        hasOlder.value = true;
      }
      hasNewer.value = !done;
      show(latest ? add : [...list, ...add], false);
      setFollowing(following);
    } catch {
      // Offline or a server error: scrolling down or the pill tries again.
    } finally {
      busy = false;
    }
  }

  function setFollowing(value: boolean): void {
    following = value;
    if (value && !hasNewer.value) unread.value = 0;
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

  function setStatus(next: ConnectionStatus, at: number | null = null): void {
    const was = status.value;
    status.value = next;
    retryAt.value = at;
    if (next === "live" && was !== "live") retryFailed();
  }

  function setOffline(value: boolean): void {
    offline.value = value;
  }

  function setPresence(count: number): void {
    online.value = count;
  }

  function setTyping(author: string, on: boolean): void {
    clearTimeout(typers.get(author));
    typers.delete(author);
    if (on) typers.set(author, setTimeout(setTyping, typingMs, author, false));
    typing.value = [...typers.keys()];
  }

  function noteTyping(author: string): void {
    if (author !== name.value) setTyping(author, true);
  }

  // Keeps the outbox signal and its stored copy in step; null removes.
  function putOutbox(clientId: string, item: OutboxItem | null): void {
    const list = outbox.value;
    const at = list.findIndex((i) => i.clientId === clientId);
    if (at < 0 && !item) return;
    const next = list.filter((i) => i.clientId !== clientId);
    if (item) next.splice(at < 0 ? next.length : at, 0, item);
    outbox.value = next;
    storeOutboxItem(storage, clientId, item);
  }

  function post(item: OutboxItem): void {
    const { clientId } = item;
    putOutbox(clientId, { ...item, state: "sending", error: undefined });
    queue = queue.then(async () => {
      // Confirmed by the stream or discarded while it waited its turn.
      if (!outbox.value.some((i) => i.clientId === clientId)) return;
      const result = await deliver(doFetch, postUrl, item, timeoutMs);
      if ("message" in result) receiveMessage(result.message);
      else if (outbox.value.some((i) => i.clientId === clientId)) {
        putOutbox(clientId, { ...item, state: "failed", ...result });
      }
    });
  }

  function sendMessage(raw: string): boolean {
    const text = raw.trim();
    const author = name.value;
    // The composer prevents these; the server would refuse them anyway.
    if (!text || !author || charCount(text) > MAX_TEXT_LENGTH) return false;
    post({ clientId: newClientId(), author, text, state: "sending" });
    return true;
  }

  function retrySend(clientId: string): void {
    const item = outbox.value.find((i) => i.clientId === clientId);
    if (item?.state === "failed") post(item);
  }

  function discardSend(clientId: string): void {
    putOutbox(clientId, null);
  }

  function retryFailed(): void {
    for (const i of outbox.value) if (!i.refused) retrySend(i.clientId);
  }

  function syncOutbox(): void {
    const stored = readOutbox(storage).map((i) => i.clientId);
    outbox.value = outbox.value.filter((i) => stored.includes(i.clientId));
  }

  return {
    messages,
    name,
    status,
    retryAt,
    offline,
    outbox,
    online,
    typing,
    hasOlder,
    loadingOlder,
    hasNewer,
    unread,
    receiveMessage,
    loadOlder,
    loadNewer,
    setFollowing,
    setName,
    setStatus,
    setOffline,
    sendMessage,
    retrySend,
    discardSend,
    retryFailed,
    syncOutbox,
    setPresence,
    noteTyping,
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
