import { Fragment, h } from "preact";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { authorHue, initials } from "../author_style.ts";
import { chat } from "../chat_state.ts";
import { halfMinute } from "../clock.ts";
import { markdown } from "../markdown.ts";
import { mentionPattern } from "../../protocol/mention.ts";
import { type MessageRow, messageRows } from "../message_view.ts";
import { dayLabel, exactTime, relativeTime } from "../relative_time.ts";
import { NewMessagesPill } from "./new_messages_pill.tsx";
import { OutboxList } from "./outbox_list.tsx";

// Within this many pixels of the end counts as "at the bottom", so sub-pixel
// rounding and a half-visible last line do not unpin the view.
const PINNED_SLACK_PX = 48;
// Older messages are fetched this far from the top, before the reader gets there.
const LOAD_OLDER_PX = 800;
// Pictures in the log fit a square this size (CSS pixels): fits a phone.
const PICTURE_PX = 256;

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
  [m, at, head, newDay, own]: MessageRow,
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
      {/* client/extras: the "N new messages" divider above the first unread. */}
      {chat.messageExtras.value(m, true)}
      <li
        class={`msg${head ? " head" : ""}${own ? " own" : ""}${
          mentioned ? " mention" : ""
        }`}
        data-testid="message"
        data-id={m.id}
      >
        {head && !own && (
          <span class={`av ${hue}`} aria-hidden>
            {initials(m.author)}
          </span>
        )}
        {head && (
          <div class="meta">
            {/* <bdi>: a name's bidi controls cannot reorder the time after it. */}
            <bdi class={`msg-author ${hue}`} data-testid="message-author">
              {m.author}
            </bdi>
            {m.verified && (
              <span
                class="ok"
                role="img"
                aria-label="Claimed name"
                title="Claimed name"
              >
                ✓
              </span>
            )}
            {/* Styled by client/extras/bot_badge.css. */}
            {m.bot && <span class="bot">bot</span>}
            {chat.nameMark.value(m.author)}
            {time}
          </div>
        )}
        {m.replyTo && (
          // client/extras scrolls to the original (data-to) on click.
          <button
            type="button"
            class="quote"
            data-testid="reply-quote"
            data-to={m.replyTo.id}
          >
            <bdi>{m.replyTo.author}</bdi>{" "}
            <bdi>{m.replyTo.text ?? "Message deleted"}</bdi>
          </button>
        )}
        {/* A div: a quote or code block may be inside. */}
        <div class="msg-text" data-testid="message-text">
          {/* Elements with text children only (client/markdown.ts): a message never becomes markup. */}
          {markdown(m.text)}
          {m.editedAt && <span class="edited">(edited)</span>}
          {/* Pictures on a line of their own, in reading order (an own message's row is reversed). */}
          {m.attachments?.[0] && (
            <div>
              {m.attachments.map(({ id, width, height, alt }) => {
                // Sized before it loads (its shape, fitted): nothing moves when it does.
                const k = Math.min(1, PICTURE_PX / width, PICTURE_PX / height);
                const src = `/attachments/${id}`;
                // A link to the full picture, which client/attach opens in a lightbox.
                return (
                  <a href={src}>
                    <img
                      src={src + "/thumb"}
                      alt={alt}
                      width={k * width}
                      height={k * height}
                      loading="lazy"
                    />
                  </a>
                );
              })}
            </div>
          )}
        </div>
        {chat.messageExtras.value(m)}
        {!head && time}
      </li>
    </Fragment>
  );
}

/** The conversation and the pending sends after it: grouped, scrollable both ways, following the end while the reader is there. */
export function MessageList() {
  const messages = chat.messages.value;
  const ownName = chat.name.value;
  const scroller = useRef<HTMLDivElement>(null);
  // Tracked on scroll rather than measured on update: by the time new
  // messages are in the DOM, the old "was at the bottom" answer is gone.
  const pinned = useRef(true);
  // Whether the last render's list ended with the newest message.
  const attached = useRef(true);
  // Relative times go stale; the clock re-renders the list for all of them.
  const now = halfMinute.value;

  // Render runs before the DOM changes: note where the first visible message
  // is, so that messages added or dropped above it do not move the view.
  let anchor: HTMLElement | undefined;
  let anchorTop = 0;
  const el = scroller.current;
  if (el && !(pinned.current && attached.current)) {
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
    pinned.current = on;
    chat.setFollowing(on);
  }

  // Stays at the end if the reader was there.
  function stick(el: HTMLElement): boolean {
    if (pinned.current && attached.current) el.scrollTop = el.scrollHeight;
    return pinned.current && attached.current;
  }

  useLayoutEffect(() => {
    const el = scroller.current!;
    if (!stick(el) && anchor?.isConnected) {
      el.scrollTop += anchor.offsetTop - anchorTop;
    }
    attached.current = !chat.hasNewer.value;
  });
  // New messages in may leave the view at an end still: fetch on. Only
  // then, so that a failed fetch is not retried on every render.
  useLayoutEffect(() => loadAround(scroller.current!), [messages]);

  // The list lives as long as the page: nothing here is ever taken down.
  useEffect(() => {
    const el = scroller.current!;
    document.addEventListener("visibilitychange", () => follow());
    // The log shrinks when the composer grows or a phone keyboard opens, and
    // its content grows with pending sends: stay at the end if we were there.
    const observer = new ResizeObserver(() => stick(el));
    observer.observe(el);
    observer.observe(el.firstElementChild!);
  }, []);

  async function jump(): Promise<void> {
    const el = scroller.current!;
    follow(true);
    // The pill goes away; keep keyboard focus nearby instead of on <body>.
    el.focus({ preventScroll: true });
    // Far up, the newest are not in the list: they are fetched first, and
    // the layout effect keeps the view at the end when they come in.
    attached.current = true;
    if (chat.hasNewer.value) await chat.loadLatest();
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
        aria-label="Messages"
        tabindex={0}
        onScroll={() => {
          follow();
          loadAround(scroller.current!);
        }}
      >
        <div class="log-body">
          {messages.length
            ? (
              <ol class="log-list">
                {/* Older ones load well before the reader gets here. */}
                {chat.hasOlder.value && (
                  <li class="day">Loading older messages…</li>
                )}
                {/* row[4]: own, and the reader's own words never call them. */}
                {messageRows(messages, chat.isOwn).map((row) =>
                  item(row, !row[4] && !!mention?.test(row[0].text), now)
                )}
              </ol>
            )
            : (
              <p class="log-empty">
                {chat.status.value === "live"
                  ? "No messages yet. Say hello!"
                  : "Loading the conversation…"}
              </p>
            )}
          <OutboxList />
        </div>
      </div>
      <NewMessagesPill onJump={jump} />
    </>
  );
}
