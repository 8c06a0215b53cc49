-- Readers' reports of messages, for moderators (POST /reports, GET
-- /moderation/reports). A report points at a message as it is now: deleting
-- the message (by its author or a moderator) takes its reports with it, so
-- what is left open is always something a moderator can still look at and
-- act on. Dismissing keeps the row, marked, so the list stays short while a
-- record of what was looked at remains.
create table reports (
  id bigint generated always as identity primary key,
  message_id bigint not null references messages (id) on delete cascade,
  -- What the reader wrote (optional); shown to moderators only.
  reason text check (char_length(reason) <= 500),
  -- The name the reader gave (unverified, like a typing notice's) and its
  -- key (names.key's form); both null when they gave none.
  reporter_name text check (char_length(reporter_name) between 1 and 32),
  reporter_key text check (char_length(reporter_key) between 1 and 128),
  -- The client address the report came from (server/http/client_address.ts).
  reporter_address text not null check (char_length(reporter_address) <= 64),
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  -- How a moderator closed it; null while open.
  resolution text check (resolution in ('dismissed')),
  check ((reporter_key is null) = (reporter_name is null)),
  check ((resolved_at is null) = (resolution is null))
);

-- One open report per message and address: a repeat answers with the
-- report already there instead of piling up.
create unique index reports_open_once on reports (message_id, reporter_address)
  where resolved_at is null;
-- The moderators' list: open reports, newest first.
create index reports_open on reports (id desc) where resolved_at is null;
-- For the cascade when a message goes.
create index reports_message on reports (message_id);
