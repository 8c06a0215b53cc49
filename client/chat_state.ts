/**
 * The one module that holds shared client state as signals. Components read the
 * signals and change state only through the named actions, so every change has
 * one place to look for.
 */
import { computed, type ReadonlySignal, signal } from "@preact/signals";
import type { ComponentChild } from "preact";
import {
  CONTROL_CHARACTERS,
  MAX_AUTHOR_LENGTH,
  MAX_TEXT_LENGTH,
} from "../protocol/limits.ts";
import {
  type LinkPreview,
  type Message,
  REPLY_QUOTE_LENGTH,
  type ReplyQuote,
} from "../protocol/message.ts";
import type { Reaction } from "../protocol/reactions.ts";
import type { SlowMode } from "../protocol/events.ts";
import type { ConnectionStatus } from "./event_stream.ts";
import { isMessage } from "./message_shape.ts";
import {
  deliver,
  type Delivery,
  newClientId,
  type OutboxItem,
  type PendingImage,
  read,
  readOutbox,
  storeOutboxItem,
  write,
} from "./outbox.ts";
import type { FetchLike } from "./fetch_like.ts";
import { type TakenName, tokenFor } from "./names.ts";
import { nameKey } from "../protocol/names.ts";

/** localStorage key under which the chosen name survives reloads. */
export const NAME_STORAGE_KEY = "plaza.name";

/** localStorage key of the clientIds this device sent, oldest first, space-separated. */
export const SENT_KEY = "plaza.sent";
/** How many of this device's latest clientIds are kept to recognise its own messages. */
export const MAX_SENT_IDS = 1000;
// A clientId is a 36-character UUID; with its separator, 37 characters a
// send (MAX_SENT_IDS × 37, written out: the bundle keeps no arithmetic).
const SENT_CHARS = 37_000;

/** localStorage key of the names muted on this device: a JSON array, as each was first muted. */
export const MUTED_KEY = "plaza.muted";

/** Most messages in the list (and the DOM); the far end is dropped beyond it and fetched again on scroll. */
export const MAX_KEPT_MESSAGES = 300;
/** Messages per scrollback request: the server's default page. */
export const PAGE_SIZE = 50;
/** The server's largest `limit`, used to fetch a dropped stretch back. */
export const GAP_PAGE = 200;

/** Default time a POST may take before we tell the reader it failed. */
export const SEND_TIMEOUT_MS = 20_000;

/** How long "ada is typing…" stays after her last typing event. */
export const TYPING_SHOWN_MS = 4_000;

/** The part of Storage used for the name, so tests can pass a Map-backed fake. */
export interface NameStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Readable state plus the actions that are the only way to change it. */
export interface ChatState {
  /** Messages sorted by id, each id once; none by a muted name. */
  readonly messages: ReadonlySignal<readonly Message[]>;
  /** The reader's name, or null until they choose one. */
  readonly name: ReadonlySignal<string | null>;
  /** Connection status of the live stream, or "offline" while the browser says it has no network. */
  readonly status: ReadonlySignal<ConnectionStatus | "offline">;
  /** While reconnecting: when the next attempt starts (epoch ms), else null. */
  readonly retryAt: ReadonlySignal<number | null>;
  /** Sends not yet confirmed, oldest first. */
  readonly outbox: ReadonlySignal<readonly OutboxItem[]>;
  /** Open streams across the room (browsers, not tabs), or null before the first count. */
  readonly online: ReadonlySignal<number | null>;
  /** Names streams are open under across the room (presence `names`), sorted; [] before the first count. */
  readonly names: ReadonlySignal<readonly string[]>;
  /** Other people typing right now, muted names left out. */
  readonly typing: ReadonlySignal<readonly string[]>;
  /** Names muted on this device (never sent anywhere): their messages and typing are hidden, and do not count as unread. */
  readonly muted: ReadonlySignal<readonly string[]>;
  /** True while older messages than the first shown may exist. */
  readonly hasOlder: ReadonlySignal<boolean>;
  /** True when newer messages than the last shown exist (the reader is far up). */
  readonly hasNewer: ReadonlySignal<boolean>;
  /** Messages that arrived while the reader was not following the end. */
  readonly unread: ReadonlySignal<number>;
  /** "New since you left": the divider goes above the first message after this id (0: no divider). */
  readonly lastRead: ReadonlySignal<number>;
  /** What to show after an author's name (a look-alike warning); nothing until the lazy chunk lends it. */
  readonly nameMark: ReadonlySignal<(author: string) => ComponentChild>;
  /** Pictures picked for the next send (client/attach shows them and keeps their bytes). */
  readonly images: ReadonlySignal<readonly PendingImage[]>;
  /** The message the next send answers, or null. */
  readonly replyTo: ReadonlySignal<Message | null>;
  /** What to show under each message (menu, reactions), or before it with `before` (the unread divider); nothing until the client/extras chunk lends it. */
  readonly messageExtras: ReadonlySignal<
    (message: Message, before?: boolean) => ComponentChild
  >;
  /** The name the last send found held by someone else (with the server's suggestion), until the name changes. */
  readonly taken: ReadonlySignal<TakenName | null>;
  /** True while the list shows messages saved on this device (see restoreMessages), none yet from the server. */
  readonly saved: ReadonlySignal<boolean>;
  /** The room's slow mode (from `room` events), or null while it is off. */
  readonly slowMode: ReadonlySignal<SlowMode | null>;
  /** Under slow mode, when the reader may send again (epoch ms; 0: now). */
  readonly sendAt: ReadonlySignal<number>;
  /** The newest id received from the stream or a page: where a stream this tab opens resumes (0: none yet). */
  newestId(): number;
  /**
   * Whether this device sent a message: one of its tabs posted that clientId
   * (the latest MAX_SENT_IDS are kept). Not the author's name: anyone can
   * post under any name.
   */
  isOwn(message: Message): boolean;
  /** Adds a message from the stream; repeats and stale ids are ignored. */
  receiveMessage(message: Message): void;
  /** Takes away a deleted message; quotes of it in replies lose their author and text. */
  removeMessage(id: number): void;
  /** Puts an edited message (from an `edit` event or a PATCH reply) in place of its old copy; quotes of it follow. */
  editMessage(message: Message): void;
  /** Replaces a message's reactions (from a `reaction` event or a reaction's reply). */
  setReactions(id: number, reactions: Reaction[]): void;
  /** Sets a message's link preview (from a `preview` event; null takes it away). */
  setPreview(id: number, preview: LinkPreview | null): void;
  /** Shows messages saved on this device (sorted by id) while none came from the server; the first that does replaces them all. */
  restoreMessages(list: readonly Message[]): void;
  /** Fetches the page before the first message shown. */
  loadOlder(): Promise<void>;
  /** Fetches the messages after the last shown, while some are missing there. */
  loadNewer(): Promise<void>;
  /** Fetches the newest page: far up it replaces the list, otherwise it joins it (a tab whose history no stream gave). */
  loadLatest(): Promise<void>;
  /**
   * Shows a stretch of history fetched around a message (a search result)
   * in place of the list, the reader away from the end; `older` says whether
   * messages before it exist. Scrollback fills in either side.
   */
  showAround(list: readonly Message[], older: boolean): void;
  /**
   * Opens at the first message after `last` (> 0: the newest this device had read,
   * kept by client/extras/unread.ts), fetching the page that starts there if the
   * list begins later, and sets lastRead for the divider; nothing when all was read.
   */
  openUnread(last: number): Promise<void>;
  /** Records whether the reader sees the end (at the bottom, tab visible); while not, new messages count as unread. */
  setFollowing(following: boolean): void;
  /** Sets and persists the name; returns why it was refused (and nothing changed), if it was. */
  setName(raw: string): string | undefined;
  /** Records the stream's status (or the browser's lack of network); live retries failed sends. */
  setStatus(
    status: ConnectionStatus | "offline",
    retryAt?: number | null,
  ): void;
  /** Queues a message (the text and the pictures picked) as the current name and posts it; false when there is nothing to send. */
  sendMessage(text: string): boolean;
  /** Sets images (client/attach: a picture picked or removed, alt text typed). */
  setImages(list: readonly PendingImage[]): void;
  /** Lends what posts a send with pictures (client/attach uploads them first); such sends wait for it. */
  setUploader(upload: typeof deliver): void;
  /** Posts a failed send again, with the same clientId (under the current name if its own was taken). */
  retrySend(clientId: string): void;
  /** Drops a failed send for good. */
  discardSend(clientId: string): void;
  /** Takes in another tab's changes: sends it confirmed, discarded or made, names it muted (call on a storage event). */
  syncOutbox(): void;
  /** Makes the next send a reply to this message (null: to none). */
  setReplyTo(message: Message | null): void;
  /** Sets messageExtras (client/extras/extras.tsx, loaded after the first paint). */
  setMessageExtras(
    render: (message: Message, before?: boolean) => ComponentChild,
  ): void;
  /** Sets nameMark (client/pwa/name_mark.ts: its script tables load after the first paint). */
  setNameMark(mark: (author: string) => ComponentChild): void;
  /** Records the room's slow mode from a `room` event; off lets the reader send at once. */
  setSlowMode(slowMode: SlowMode | null): void;
  /** Records the room's online count and who is here from a presence event. */
  setPresence(online: number, names?: readonly string[]): void;
  /** Shows that someone is typing, for a few seconds; the reader's own name is ignored. */
  noteTyping(author: string): void;
  /** Hides a name's messages and typing on this device and remembers it ("Ada" and "ada" are one name). */
  mute(name: string): void;
  /** Shows a muted name's messages and typing again. */
  unmute(name: string): void;
}

/** Counts characters the way the server does: Unicode code points. */
export function charCount(s: string): number {
  return [...s].length;
}

/** Why a name (trimmed and NFKC-folded as the server folds names, as setName stores it) is refused, or undefined when it is fine. */
export function nameError(name: string): string | undefined {
  return !name
    ? "Please enter a name."
    : charCount(name) > MAX_AUTHOR_LENGTH
    ? `Names can be at most ${MAX_AUTHOR_LENGTH} characters.`
    // The server refuses these too; checking here gives a clearer sentence
    // than a round trip would.
    : CONTROL_CHARACTERS.test(name)
    ? "Names cannot contain control characters."
    : undefined;
}

const cleanName = (raw: string) => raw.normalize("NFKC").trim();

// Muted names as stored; anything unreadable mutes nobody.
function readMuted(storage: NameStorage | null): string[] {
  try {
    const list = JSON.parse(read(storage, MUTED_KEY) || "[]");
    return list.filter((n: unknown) => typeof n == "string");
  } catch {
    return [];
  }
}

// Unreadable storage gives "": the name is asked for again.
function readStoredName(storage: NameStorage | null): string | null {
  const name = cleanName(read(storage, NAME_STORAGE_KEY));
  return nameError(name) ? null : name;
}

/**
 * Creates an independent chat state; the app uses the default `chat` below.
 * Tests pass fakes: storage is where the name and the outbox persist (null
 * keeps them in memory only), fetch reaches the server, a send is abandoned
 * after sendTimeoutMs (0: never) and a typing event shows for typingMs.
 */
export function createChatState(
  storage: NameStorage | null = null,
  doFetch: FetchLike = fetch,
  sendTimeoutMs = SEND_TIMEOUT_MS,
  typingMs = TYPING_SHOWN_MS,
): ChatState {
  const messages = signal<readonly Message[]>([]);
  const name = signal(readStoredName(storage));
  const status = signal<ConnectionStatus | "offline">("connecting");
  const retryAt = signal<number | null>(null);
  const outbox = signal<readonly OutboxItem[]>(readOutbox(storage));
  const online = signal<number | null>(null);
  const names = signal<readonly string[]>([]);
  const typing = signal<readonly string[]>([]);
  const muted = signal<readonly string[]>(readMuted(storage));
  const isMuted = (author: string) =>
    muted.value.some((n) => nameKey(n) == nameKey(author));
  // Muting only hides: the list keeps every message, so unmuting (or an
  // Undo) shows them again at once, without a fetch.
  const shown = computed(() =>
    muted.value.length
      ? messages.value.filter((m) => !isMuted(m.author))
      : messages.value
  );
  const sent = signal(read(storage, SENT_KEY));
  const nameMark = signal<(author: string) => ComponentChild>(() => null);
  const typers = new Map<string, ReturnType<typeof setTimeout>>();
  // Posts go one after another so messages keep the order they were sent in.
  let queue = Promise.resolve();
  // Ids at or below this were dropped for MAX_KEPT_MESSAGES; a late replay of
  // one must not reappear at the top of the list (scrollback fetches it).
  let floor = 0;
  const hasOlder = signal(true);
  const hasNewer = signal(false);
  const unread = signal(0);
  const lastRead = signal(0);
  const saved = signal(false);
  const taken = signal<TakenName | null>(null);
  const slowMode = signal<SlowMode | null>(null);
  const sendAt = signal(0);
  const replyTo = signal<Message | null>(null);
  const images = signal<readonly PendingImage[]>([]);
  let setUploader!: (upload: typeof deliver) => void;
  const uploader = new Promise<typeof deliver>((r) => (setUploader = r));
  const messageExtras = signal<(m: Message) => ComponentChild>(() => null);
  // Whether the reader sees the newest messages (see setFollowing).
  let following = true;
  // The highest id received; while hasNewer, newer ones are not kept but
  // fetched again when the reader comes back down. Not raised by a POST
  // reply, which can overtake older messages still on their way.
  let newest = 0;
  // Whether a scroll's page is on its way: one at a time is plenty.
  let busy = false;

  const find = (clientId: string) =>
    outbox.value.find((i) => i.clientId === clientId);

  function receiveMessage(message: Message): void {
    if (message.id > newest) {
      newest = message.id;
      if ((!following || hasNewer.value) && !isMuted(message.author)) {
        unread.value++;
      }
    }
    add(message);
  }

  // Puts a message into the list where it belongs, if the list has room for it.
  function add(message: Message): void {
    const { id, author, clientId } = message;
    // Saved copies may be long out of date: what the server sends starts
    // the list afresh rather than leave an unseen gap between the two.
    if (saved.value) {
      saved.value = false;
      messages.value = [];
      hasOlder.value = true;
    }
    const list = messages.value;
    // Matched by clientId, whichever comes first: the stream or the POST reply.
    if (clientId) putOutbox(clientId);
    if (typers.has(author)) setTyping(author, false);
    if (id <= floor || hasNewer.value || list.some((m) => m.id === id)) return;
    // The reader is far up and the list is full: growing it would break the
    // bound, dropping its top would pull the page from under them.
    if (!following && list.length >= MAX_KEPT_MESSAGES) {
      hasNewer.value = true;
    } else {
      // Sorted, for the rare POST reply overtaken by the stream.
      show([...list, message].sort((a, b) => a.id - b.id), false);
    }
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

  // A page of GET /messages and its hasMore, or nothing when offline or the
  // server failed (an error reply has no "messages" array): the next scroll
  // or the pill tries again.
  async function getPage(
    query: string,
  ): Promise<[Message[], boolean] | undefined> {
    try {
      const res = await doFetch("/messages?" + query, {});
      const body: { messages: unknown[]; hasMore: boolean } = await res.json();
      return [body.messages.filter(isMessage), body.hasMore];
    } catch {
      // Nothing to show; the caller's next try may do better.
    }
  }

  async function loadOlder(): Promise<void> {
    const first = messages.value[0];
    if (!first || !hasOlder.value || busy) return;
    busy = true;
    // The server's default page: PAGE_SIZE.
    const page = await getPage(`before=${first.id}`);
    busy = false;
    const list = messages.value;
    // Ask again on the next scroll if the list moved on meanwhile.
    if (page && list[0] === first) {
      hasOlder.value = page[1];
      // Far up, the newest make way; at the bottom the fetched ones go again.
      show([...page[0], ...list], !following);
    }
  }

  // Shows a list that reaches past the last one shown. Messages that arrived
  // during the wait were not kept: newer ones are still missing unless the
  // fetched page holds them.
  function catchUp(list: Message[]): void {
    show(list, false);
    hasNewer.value = newest > list.at(-1)!.id;
    setFollowing(following);
  }

  async function loadNewer(): Promise<void> {
    const list = messages.value;
    if (!hasNewer.value || busy) return;
    busy = true;
    const page = await getPage(`after=${list.at(-1)!.id}&limit=${GAP_PAGE}`);
    busy = false;
    if (page && messages.value === list) catchUp([...list, ...page[0]]);
  }

  // Not held back by a scroll's page on its way: what that one brings is
  // dropped once the list has moved on. With `after`, the page after that
  // id (openUnread sets hasNewer first: it takes the list's place).
  async function loadLatest(after?: number): Promise<void> {
    // No query: the newest page, of the server's default size.
    const [page = []] = await getPage(
      after ? `after=${after}&limit=${GAP_PAGE}` : "",
    ) ?? [];
    if (!hasNewer.value) page.forEach(receiveMessage);
    else if (page[0]) {
      // Far up: the list gives way to the newest page, and scrollback
      // fills in what lies between.
      floor = page[0].id - 1;
      hasOlder.value = true;
      catchUp(page);
    }
  }

  // Applies change to every message shown; those it gives back unchanged stay the same object.
  function mapMessages(change: (m: Message) => Message | []): void {
    messages.value = messages.value.flatMap(change);
  }

  // Rewrites the quotes of message `id` in its replies, as the server would.
  function requote(m: Message, id: number, quote: ReplyQuote): Message {
    return m.replyTo?.id === id ? { ...m, replyTo: quote } : m;
  }

  function setFollowing(value: boolean): void {
    if (value && !hasNewer.value) {
      unread.value = 0;
      // Back at the bottom from further up: the divider has done its work.
      // Not when the view opens there, as it does when all that is new fits.
      if (!following) lastRead.value = 0;
    }
    following = value;
  }

  function setName(raw: string): string | undefined {
    const value = cleanName(raw);
    const error = nameError(value);
    if (!error) {
      name.value = value;
      taken.value = null;
      write(storage, NAME_STORAGE_KEY, value);
    }
    return error;
  }

  function setStatus(
    next: ConnectionStatus | "offline",
    at: number | null = null,
  ): void {
    status.value = next;
    retryAt.value = at;
    // Failed sends the server did not refuse go again: resending one is
    // harmless, the server knows its clientId.
    if (next === "live") {
      for (const i of outbox.value) if (!i.refused) retrySend(i.clientId);
    }
  }

  function setTyping(author: string, on: boolean): void {
    clearTimeout(typers.get(author));
    typers.delete(author);
    if (on) typers.set(author, setTimeout(setTyping, typingMs, author, false));
    showTyping();
  }

  function showTyping(): void {
    typing.value = [...typers.keys()].filter((a) => !isMuted(a));
  }

  function setMuted(list: readonly string[]): void {
    muted.value = list;
    write(storage, MUTED_KEY, JSON.stringify(list));
    showTyping();
  }

  // Replaces an item of the outbox, or with none removes it, keeping the
  // signal and the stored copy in step; an item not there is left alone.
  function putOutbox(clientId: string, item?: OutboxItem): void {
    if (!find(clientId)) return;
    outbox.value = outbox.value.flatMap((i) =>
      i.clientId === clientId ? item ?? [] : i
    );
    storeOutboxItem(storage, clientId, item);
  }

  function post(item: OutboxItem): void {
    const { clientId } = item;
    putOutbox(clientId, { ...item, state: "sending" });
    queue = queue.then(async () => {
      // Confirmed by the stream or discarded while it waited its turn.
      if (!find(clientId)) return;
      // The name is claimed on its first send from this device.
      const claim = await tokenFor(
        doFetch,
        storage,
        item.author,
        sendTimeoutMs,
      );
      let result: Delivery & { taken?: boolean };
      if ("token" in claim) {
        // With pictures, once client/attach has lent what uploads them.
        result = await (item.images?.[0] ? await uploader : deliver)(
          doFetch,
          item,
          sendTimeoutMs,
          claim.token,
        );
      } else {
        taken.value = claim.taken ?? taken.value;
        result = { ...claim, taken: !!claim.taken };
      }
      if ("message" in result) add(result.message);
      else putOutbox(clientId, { ...item, state: "failed", ...result });
    });
  }

  function retrySend(clientId: string): void {
    const item = find(clientId);
    // Never sent, so the server knows nothing of it under the taken name.
    if (item?.state === "failed") {
      post(item.taken ? { ...item, author: name.value!, taken: false } : item);
    }
  }

  return {
    messages: shown,
    name,
    status,
    retryAt,
    outbox,
    online,
    names,
    typing,
    hasOlder,
    hasNewer,
    unread,
    lastRead,
    async openUnread(last) {
      if (last < newest) {
        // The page after `last` replaces the list, as far up would; the
        // divider comes after it, not on the list it replaces.
        if (last < messages.value[0]?.id) {
          hasNewer.value = true;
          await loadLatest(last);
        }
        lastRead.value = last;
      }
    },
    newestId: () => newest,
    receiveMessage,
    removeMessage(id) {
      mapMessages((m) =>
        m.id === id ? [] : requote(m, id, { id, author: null, text: null })
      );
    },
    editMessage(edited) {
      const { id, author, text } = edited;
      const chars = [...text];
      // Cut as the server cuts (message_json in db/migrations/005).
      const quote = {
        id,
        author,
        text: chars.length > REPLY_QUOTE_LENGTH
          ? chars.slice(0, REPLY_QUOTE_LENGTH).join("") + "…"
          : text,
      };
      mapMessages((m) => m.id === id ? edited : requote(m, id, quote));
    },
    setReactions(id, reactions) {
      mapMessages((m) => m.id === id ? { ...m, reactions } : m);
    },
    setPreview(id, preview) {
      mapMessages((m) => m.id === id ? { ...m, preview } : m);
    },
    saved,
    taken,
    slowMode,
    sendAt,
    replyTo,
    messageExtras,
    setReplyTo(m) {
      replyTo.value = m;
    },
    setMessageExtras(render) {
      messageExtras.value = render;
    },
    nameMark,
    // Each stored id follows a space: between spaces, only a whole one
    // matches (not a part, not "" or null, not the cut-off oldest).
    isOwn: ({ clientId }) => (sent.value + " ").includes(` ${clientId} `),
    restoreMessages(list) {
      // Not `newest`: a stream resuming after saved ids could bring days of
      // messages; it starts from the latest history instead.
      if (!messages.value.length && list.length) {
        messages.value = list;
        saved.value = true;
        // Offline there is no scrollback to offer.
        hasOlder.value = false;
      }
    },
    loadOlder,
    loadNewer,
    loadLatest,
    showAround(list, older) {
      if (!list[0]) return;
      saved.value = false;
      // As far up as the stretch begins: replays of older ids are not kept.
      floor = list[0].id - 1;
      hasOlder.value = older;
      following = false;
      catchUp([...list]);
    },
    setFollowing,
    setName,
    setStatus,
    images,
    setImages(list) {
      images.value = list;
    },
    setUploader,
    sendMessage(raw) {
      const text = raw.trim();
      const author = name.value;
      const picked = images.value;
      // The composer prevents these; the server would refuse them anyway.
      if (
        !(text || picked[0]) || !author || charCount(text) > MAX_TEXT_LENGTH ||
        sendAt.value > Date.now()
      ) return false;
      // One message per slow mode's seconds: the composer counts down.
      if (slowMode.value) {
        sendAt.value = Date.now() + slowMode.value.seconds * 1e3;
      }
      const item: OutboxItem = {
        clientId: newClientId(),
        author,
        text,
        state: "sending",
        replyTo: replyTo.value?.id,
        images: picked,
      };
      replyTo.value = null;
      images.value = [];
      // Answering: the new messages were read.
      lastRead.value = 0;
      outbox.value = [...outbox.value, item];
      // Kept before the POST, so the message is known as this device's own
      // however it comes back (reply or stream, this tab or another). The
      // oldest give way past SENT_CHARS.
      sent.value = (sent.value + " " + item.clientId).slice(-SENT_CHARS);
      write(storage, SENT_KEY, sent.value);
      post(item);
      return true;
    },
    retrySend,
    discardSend: putOutbox,
    syncOutbox() {
      const stored = readOutbox(storage).map((i) => i.clientId);
      outbox.value = outbox.value.filter((i) => stored.includes(i.clientId));
      sent.value = read(storage, SENT_KEY);
      // Another tab muted or unmuted someone.
      muted.value = readMuted(storage);
      showTyping();
    },
    setNameMark(mark) {
      nameMark.value = mark;
    },
    setSlowMode(value) {
      slowMode.value = value;
      if (!value) sendAt.value = 0;
    },
    setPresence(count, present = []) {
      online.value = count;
      names.value = present;
    },
    noteTyping(author) {
      if (author !== name.value) setTyping(author, true);
    },
    muted,
    mute(who) {
      if (!isMuted(who)) setMuted([...muted.value, who]);
    },
    unmute(who) {
      setMuted(muted.value.filter((n) => nameKey(n) != nameKey(who)));
    },
  };
}

function browserStorage(): NameStorage | null {
  try {
    return globalThis.localStorage;
  } catch {
    // Accessing localStorage itself throws when the browser blocks storage.
    return null;
  }
}

/** The page's chat state, shared by main.tsx and the components. */
export const chat: ChatState = createChatState(browserStorage());
