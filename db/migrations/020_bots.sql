-- Bots: claimed names a moderator registered as bots, whose messages carry
-- `bot: true`, and the queue of webhook deliveries for the messages that
-- mention one (server/bots/).
--
-- A bot is a claim (names) with a row here; releasing the name (or the
-- claim being replaced) removes the bot. The HMAC secret is kept as it is:
-- Plaza signs with it, so it cannot be a hash.
create table bots (
  name_id bigint primary key references names (id) on delete cascade,
  -- http(s) URL the mentions are POSTed to; null: a bot that only posts.
  webhook text check (char_length(webhook) between 1 and 2000),
  secret text not null check (char_length(secret) between 32 and 128),
  -- Whether the webhook may be on a private or loopback address (a bot on
  -- the same host); otherwise server/previews/ssrf_guard.ts's rules apply.
  allow_local boolean not null default false,
  created_at timestamptz not null default now()
);

-- Set from bots when the row is inserted, and kept: a bot's messages stay
-- marked after it is unregistered, as a bot wrote them.
alter table messages add column bot boolean not null default false;

create function messages_mark_bot() returns trigger
language plpgsql as $$
begin
  new.bot := new.name_id is not null
    and exists (select 1 from bots where name_id = new.name_id);
  return new;
end;
$$;

create trigger messages_mark_bot
  before insert on messages
  for each row execute function messages_mark_bot();

-- 016's message_json_with (015's shape plus `attachments`), with `bot`.
create or replace function message_json_with(
  m messages, reactions json, preview json
) returns json
language plpgsql stable as $$
declare
  reply json;
begin
  if m.reply_to is not null then
    -- Author and text are null once the message replied to is deleted.
    select json_build_object(
        'id', m.reply_to,
        'author', p.author,
        -- REPLY_QUOTE_LENGTH
        'text', case when char_length(p.text) > 100
          then left(p.text, 100) || '…' else p.text end)
      into reply
      from (select 1) one left join messages p on p.id = m.reply_to;
  end if;
  return json_build_object(
    'id', m.id,
    'author', m.author,
    'text', m.text,
    'createdAt', to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'clientId', m.client_id,
    'verified', m.name_id is not null,
    'editedAt', to_char(m.edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'replyTo', reply,
    'reactions', reactions,
    'preview', preview,
    'attachments', coalesce(m.attachments::json, '[]'::json),
    'bot', m.bot
  );
end;
$$;

-- The webhook queue's fan-out cursor: every message up to it has been
-- looked at for mentions of bots. One row; whoever locks it (FOR UPDATE
-- SKIP LOCKED) fans out, the other instances skip. Starts at the newest
-- message: bots hear of what is posted after they exist.
create table bot_cursor (message_id bigint not null);
insert into bot_cursor (message_id)
select coalesce(max(id), 0) from messages;

-- One row per (bot, message that mentions it), made once by the fan-out;
-- a sender leases it (next_attempt_at moved past its timeout, attempts
-- raised) before it POSTs, and deletes it when done.
create table bot_deliveries (
  id bigint generated always as identity primary key,
  bot_id bigint not null references bots (name_id) on delete cascade,
  message_id bigint not null,
  -- The message as message_json rendered it at fan-out: every retry sends
  -- the same body.
  message json not null,
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  unique (bot_id, message_id)
);
create index bot_deliveries_due on bot_deliveries (next_attempt_at);
