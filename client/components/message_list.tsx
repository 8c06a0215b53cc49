import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { Message } from "../../server/message.ts";
import type { ConnectionStatus } from "../event_stream.ts";

// Within this many pixels of the end counts as "at the bottom", so sub-pixel
// rounding and a half-visible last line do not unpin the view.
const PINNED_SLACK_PX = 48;
// Author colours; must match the .hue-N rules in styles.css.
const AUTHOR_HUES = 8;

const shortTime = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
});
const fullTime = new Intl.DateTimeFormat(undefined, {
  dateStyle: "full",
  timeStyle: "short",
});

function hueClass(author: string): string {
  let h = 0;
  for (let i = 0; i < author.length; i++) {
    h = (h * 31 + author.charCodeAt(i)) >>> 0;
  }
  return `hue-${h % AUTHOR_HUES}`;
}

function isAtBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight <= PINNED_SLACK_PX;
}

function MessageItem({ message, own }: { message: Message; own: boolean }) {
  const at = new Date(message.createdAt);
  const valid = !Number.isNaN(at.getTime());
  return (
    <li
      class={own ? "msg own" : "msg"}
      data-testid="message"
      data-id={message.id}
    >
      <div class="msg-meta">
        <span
          class={`msg-author ${hueClass(message.author)}`}
          data-testid="message-author"
        >
          {message.author}
        </span>
        {valid && (
          <time datetime={message.createdAt} title={fullTime.format(at)}>
            {shortTime.format(at)}
          </time>
        )}
      </div>
      {/* Plain text child: Preact escapes it, so a message can never be markup. */}
      <p class="msg-text" data-testid="message-text">{message.text}</p>
    </li>
  );
}

/** Props of MessageList. */
export interface MessageListProps {
  messages: readonly Message[];
  /** The reader's name, to mark their own messages; null before choosing. */
  ownName: string | null;
  status: ConnectionStatus;
}

/** The conversation, kept scrolled to the newest message while the reader is at the bottom. */
export function MessageList({ messages, ownName, status }: MessageListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  // Tracked on scroll rather than measured on update: by the time new
  // messages are in the DOM, the old "was at the bottom" answer is gone.
  const pinned = useRef(true);
  const newestId = useRef<number | null>(null);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    const newest = messages.at(-1);
    const ownArrived = newest !== undefined &&
      newest.id !== newestId.current && newest.author === ownName;
    newestId.current = newest?.id ?? null;
    // Sending a message is a clear sign the reader wants to see the end.
    if (pinned.current || ownArrived) {
      el.scrollTop = el.scrollHeight;
      pinned.current = true;
    }
  }, [messages, ownName]);

  useEffect(() => {
    const el = scroller.current;
    if (el === null || typeof ResizeObserver === "undefined") return;
    // The log shrinks when the composer grows or a phone keyboard opens;
    // stay at the end if we were there.
    const observer = new ResizeObserver(() => {
      if (pinned.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  return (
    <div
      class="log"
      ref={scroller}
      role="log"
      aria-live="polite"
      aria-label="Messages"
      tabindex={0}
      onScroll={() => {
        if (scroller.current) pinned.current = isAtBottom(scroller.current);
      }}
    >
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
            {messages.map((m) => (
              <MessageItem
                key={m.id}
                message={m}
                own={ownName !== null && m.author === ownName}
              />
            ))}
          </ol>
        )}
    </div>
  );
}
