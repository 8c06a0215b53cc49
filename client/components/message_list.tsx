import { type ComponentChildren, Fragment } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Message } from "../../server/message.ts";
import { authorHue, initials } from "../author_style.ts";
import { chat } from "../chat_state.ts";
import type { ConnectionStatus } from "../event_stream.ts";
import { linkify } from "../linkify.ts";
import { mentionPattern } from "../mention.ts";
import { type MessageRow, messageRows } from "../message_view.ts";
import { dayLabel, exactTime, relativeTime } from "../relative_time.ts";
import { NewMessagesPill, showUnreadInTitle } from "./new_messages_pill.tsx";

// Within this many pixels of the end counts as "at the bottom", so sub-pixel
// rounding and a half-visible last line do not unpin the view.
const PINNED_SLACK_PX = 48;
// Older messages are fetched this far from the top, before the reader gets there.
const LOAD_OLDER_PX = 800;
// Relative times go stale; one timer re-renders the list for all of them.
const TICK_MS = 30_000;

function isAtBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight <= PINNED_SLACK_PX;
}

// Scrollback in both directions; each action does nothing when not needed.
function loadAround(el: HTMLElement): void {
  if (el.scrollTop < LOAD_OLDER_PX) void chat.loadOlder();
  if (isAtBottom(el)) void chat.loadNewer();
}

// A plain function, not a component: the list re-renders every row anyway.
function item(
  [m, at, head, newDay]: MessageRow,
  own: boolean,
  mentioned: boolean,
  now: number,
) {
  const hue = `hue-${authorHue(m.author)}`;
  const time = (
    <time datetime={m.createdAt} title={exactTime(at)}>
      {relativeTime(at, now)}
    </time>
  );
  return (
    <Fragment key={m.id}>
      {newDay && <li class="day">{dayLabel(at, now)}</li>}
      <li
        class={`msg${head ? " head" : ""}${own ? " own" : ""}${
          mentioned ? " mention" : ""
        }`}
        data-testid="message"
        data-id={m.id}
        data-mention={mentioned || undefined}
      >
        {head && !own && (
          <span class={`av ${hue}`} aria-hidden="true">
            {initials(m.author)}
          </span>
        )}
        {head && (
          <div class="meta">
            <span class={`msg-author ${hue}`} data-testid="message-author">
              {m.author}
            </span>
            {time}
          </div>
        )}
        <p class="msg-text" data-testid="message-text">
          {/* Text and <a> built from plain strings: Preact escapes them, so a message never becomes markup. */}
          {linkify(m.text).map((part, i) =>
            i % 2
              ? (
                <a
                  href={part}
                  target="_blank"
                  rel="noopener noreferrer nofollow"
                >
                  {part}
                </a>
              )
              : part
          )}
        </p>
        {!head && time}
      </li>
    </Fragment>
  );
}

/** Props of MessageList. */
export interface MessageListProps {
  messages: readonly Message[];
  /** The reader's name, to mark their own messages; null before choosing. */
  ownName: string | null;
  status: ConnectionStatus;
  /** Rendered inside the scroll container after the messages (e.g. pending sends). */
  after?: ComponentChildren;
}

/** The conversation: grouped, scrollable both ways, following the end while the reader is there. */
export function MessageList(
  { messages, ownName, status, after }: MessageListProps,
) {
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  // Tracked on scroll rather than measured on update: by the time new
  // messages are in the DOM, the old "was at the bottom" answer is gone.
  const pinned = useRef(true);
  // Whether the last render's list ended with the newest message.
  const attached = useRef(true);
  const shown = useRef(messages);
  const [now, setNow] = useState(Date.now);
  const stick = pinned.current && attached.current;

  // Render runs before the DOM changes: note where the first visible message
  // is, so that messages added or dropped above it do not move the view.
  let anchor: HTMLElement | undefined;
  let anchorTop = 0;
  const el = scroller.current;
  if (el && !stick) {
    for (const li of el.querySelectorAll<HTMLElement>(".msg")) {
      if (li.offsetTop + li.offsetHeight > el.scrollTop) {
        anchor = li;
        anchorTop = li.offsetTop;
        break;
      }
    }
  }

  // The reader follows the end while at the bottom of an open tab.
  function follow(
    on = !document.hidden && isAtBottom(scroller.current!),
  ): void {
    if (on === pinned.current) return;
    pinned.current = on;
    chat.setFollowing(on);
  }

  useLayoutEffect(() => {
    const el = scroller.current!;
    const newest = messages.at(-1);
    const changed = shown.current !== messages;
    // Sending a message is a clear sign the reader wants to see the end.
    if (
      changed && attached.current && newest?.author === ownName &&
      newest.id !== shown.current.at(-1)?.id
    ) follow(true);
    if (pinned.current && attached.current) el.scrollTop = el.scrollHeight;
    else if (anchor?.isConnected) el.scrollTop += anchor.offsetTop - anchorTop;
    attached.current = !chat.hasNewer.value;
    shown.current = messages;
    if (changed) loadAround(el);
  });

  useEffect(() => {
    const el = scroller.current!;
    const tick = setInterval(() => setNow(Date.now()), TICK_MS);
    const onVisibility = () => {
      follow();
      showUnreadInTitle();
    };
    document.addEventListener("visibilitychange", onVisibility);
    // The log shrinks when the composer grows or a phone keyboard opens, and
    // its content grows with pending sends: stay at the end if we were there.
    const observer = new ResizeObserver(() => {
      if (pinned.current && attached.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    observer.observe(content.current!);
    return () => {
      clearInterval(tick);
      document.removeEventListener("visibilitychange", onVisibility);
      observer.disconnect();
    };
  }, []);

  async function jump(): Promise<void> {
    const el = scroller.current!;
    follow(true);
    // The pill goes away; keep keyboard focus nearby instead of on <body>.
    el.focus({ preventScroll: true });
    // Far up, the newest are not in the list: they are fetched first, and
    // the layout effect keeps the view at the end when they come in.
    attached.current = true;
    await chat.loadNewer(true);
    // Instant, not smooth: a long smooth scroll is motion for its own sake.
    el.scrollTop = el.scrollHeight;
  }

  const mention = ownName ? mentionPattern(ownName) : null;
  return (
    <>
      <div
        class="log"
        ref={scroller}
        role="log"
        aria-live="polite"
        aria-label="Messages"
        tabindex={0}
        onScroll={() => {
          follow();
          loadAround(scroller.current!);
        }}
      >
        <div class="log-body" ref={content}>
          {messages.length === 0
            ? (
              <p class="log-empty">
                {status === "live"
                  ? "No messages yet. Say hello!"
                  : "Loading the conversation…"}
              </p>
            )
            : (
              <ol class="log-list">
                {chat.loadingOlder.value && (
                  <li class="day">Loading older messages…</li>
                )}
                {messageRows(messages).map((row) => {
                  const own = row[0].author === ownName;
                  return item(
                    row,
                    own,
                    !own && !!mention?.test(row[0].text),
                    now,
                  );
                })}
              </ol>
            )}
          {after}
        </div>
      </div>
      <NewMessagesPill onJump={jump} />
    </>
  );
}
