-- Web Push notifications. Everything the dispatchers share lives
-- here, so that any number of instances notify each subscriber once: they
-- take turns through row locks (FOR UPDATE SKIP LOCKED), never through
-- memory. See server/push/queue.ts for the steps that read and write these.

-- The VAPID key pair when none is configured: made by whichever instance
-- starts first (insert … on conflict do nothing, then read), so every
-- instance signs with the same pair and subscriptions stay valid.
create table push_vapid_keys (
  singleton boolean primary key default true check (singleton),
  public_key text not null,
  private_key text not null,
  created_at timestamptz not null default now()
);

-- One row per browser that said "Notify me". `name` is the chat name the
-- person uses: their own messages are never notified, and "@name" mentions
-- them.
create table push_subscriptions (
  id bigint generated always as identity primary key,
  endpoint text not null unique check (char_length(endpoint) between 1 and 2048),
  p256dh text not null,
  auth text not null,
  name text not null check (char_length(name) between 1 and 32),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- When this subscriber was last sent a notification: the next one (mentions
  -- aside) waits until PUSH_INTERVAL_MS after it.
  last_notified_at timestamptz,
  -- Refusals (400, 401, 403…) since the last notification that went through:
  -- a subscription the push service keeps refusing is dropped, so junk does
  -- not pile up (see PUSH_MAX_REFUSALS in server/push/queue.ts).
  refusals integer not null default 0
);

-- Tabs that show the room right now. A visible tab refreshes its row every
-- 20 s; a row counts until expires_at, so a tab that vanished without saying
-- so stops counting on its own.
create table push_visibility (
  subscription_id bigint not null
    references push_subscriptions (id) on delete cascade,
  tab text not null check (char_length(tab) between 1 and 64),
  expires_at timestamptz not null,
  primary key (subscription_id, tab)
);

-- How far the messages have been turned into pending notifications. One row:
-- the instance holding its lock does the fan-out, the others skip it.
-- Starts at the newest message so a deployment does not notify its history.
create table push_cursor (
  singleton boolean primary key default true check (singleton),
  message_id bigint not null
);
insert into push_cursor (message_id) select coalesce(max(id), 0) from messages;

-- What a subscriber has not been told yet, collapsed into one row: how many
-- messages, from whom, the latest one and the latest that mentions them.
-- Texts are kept already cut to what a notification may show. When it is due
-- is not stored but read with the subscriber's last_notified_at when the row
-- is claimed, so a fan-out racing a send cannot bring the next one forward.
create table push_pending (
  subscription_id bigint primary key
    references push_subscriptions (id) on delete cascade,
  message_count integer not null check (message_count > 0),
  authors text[] not null,
  first_message_id bigint not null,
  last_message_id bigint not null,
  last_author text not null,
  last_text text not null,
  mention_message_id bigint,
  mention_author text,
  mention_text text
);

-- Notifications to send, payload fixed. At most one per subscriber: while one
-- waits for a retry, newer messages keep collapsing in push_pending. A sender
-- claims a row by moving next_attempt_at past its send timeout (a lease), so
-- a crashed instance's sends are picked up again by the others.
create table push_deliveries (
  id bigint generated always as identity primary key,
  subscription_id bigint not null unique
    references push_subscriptions (id) on delete cascade,
  payload text not null,
  topic text not null,
  urgency text not null,
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
create index push_deliveries_next on push_deliveries (next_attempt_at);
