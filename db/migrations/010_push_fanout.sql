-- Push fan-out whose cost per message does not grow with the subscribers.
--
-- 004 folded every batch of new messages into one push_pending row per
-- subscriber: with 10,000 subscriptions each post read and wrote 10,000
-- rows. Now each subscriber keeps a cursor (notified_through: the messages
-- it has been told of, or will never be) and its summary is computed from
-- the messages past it only when a notification is due (see
-- server/push/queue.ts). The fan-out itself only records mentions, for the
-- few subscriptions a message names.

-- Old instances still running during a deploy fold into push_pending: wait
-- for them, and keep them out until this commits.
lock table push_cursor, push_pending in exclusive mode;

alter table push_subscriptions
  -- The name compared as protocol/names.ts compares names (nameKey, set by
  -- the app: Postgres' lower() depends on the database's locale). Rows
  -- stored without it get lower(name) from the trigger below.
  add column name_key text,
  -- Every message up to this id has been notified, or never will be (own,
  -- seen while looking, or older than the subscription).
  add column notified_through bigint,
  -- Set when messages past notified_through may be owed a notification;
  -- cleared once the subscriber is caught up. Only waiting subscribers are
  -- looked at when their interval is up, so the idle ones cost nothing.
  add column waiting boolean not null default false,
  -- Held back like a notification sent at this time: set while a tab shows
  -- the room (to the tab's expiry minus the interval), so a subscriber
  -- looking at the room is not looked at again on every message.
  add column quiet_from timestamptz;

update push_subscriptions set name_key = lower(name);

-- A subscriber's cursor: where 004's fan-out left it, or just before the
-- first message still pending for it.
update push_subscriptions s
set notified_through = coalesce(
    (select p.first_message_id - 1 from push_pending p
     where p.subscription_id = s.id),
    (select message_id from push_cursor)),
  waiting = exists (
    select 1 from push_pending p where p.subscription_id = s.id);

-- New subscriptions start at the newest message: they are told of what is
-- posted after they subscribed, not of the history.
create function push_subscriptions_defaults() returns trigger
language plpgsql as $$
begin
  new.name_key := coalesce(new.name_key, lower(new.name));
  if new.notified_through is null then
    new.notified_through := (select coalesce(max(id), 0) from messages);
  end if;
  return new;
end;
$$;

create trigger push_subscriptions_defaults
  before insert on push_subscriptions
  for each row execute function push_subscriptions_defaults();

alter table push_subscriptions
  alter column name_key set not null,
  alter column notified_through set not null;

-- Mentions: the subscriptions whose name a message's "@" names.
create index push_subscriptions_name_key on push_subscriptions (name_key);
-- Idle subscribers behind the newest message: woken (made waiting) by the
-- queue. Caught-up ones sit at the top of the range and are not read.
create index push_subscriptions_idle on push_subscriptions (notified_through)
  where not waiting;
-- Waiting subscribers by when their interval started: those due are a
-- prefix of this index.
create index push_subscriptions_waiting on push_subscriptions ((greatest(
    coalesce(last_notified_at, '-infinity'),
    coalesce(quiet_from, '-infinity'))))
  where waiting;

-- A mention not yet notified: due at once, whatever the interval.
-- Written by the fan-out only for the subscriptions a message names.
create table push_mentions (
  subscription_id bigint not null
    references push_subscriptions (id) on delete cascade,
  message_id bigint not null,
  primary key (subscription_id, message_id)
);

insert into push_mentions (subscription_id, message_id)
select subscription_id, mention_message_id from push_pending
where mention_message_id is not null;

drop table push_pending;
