-- Claimed names, and one change log for everything that alters the room.
--
-- Every change (a new message, an edit, a delete, a reaction) takes the next
-- number of messages_id_seq under the advisory lock 001 introduced, held
-- until commit: changes become visible in the order of their numbers, so a
-- reader resuming after number N can never miss a smaller one that commits
-- later. A message's id is the number of its creation. New messages are their
-- own log (the messages table); the other changes get a row in `changes`.
-- Triggers do all of it, so any writer (psql included) is logged and fanned
-- out. server/store/change_feed.ts reads the log.

-- Taken before the schema changes so that no insert runs half under the old
-- rules: the tombstones below get their numbers in order with everything else.
select pg_advisory_xact_lock(7461626);

-- Names, first come first served. `key` is what two names are compared by
-- (protocol/names.ts: the author rules' result in lower case, computed by
-- the app, as Postgres' lower() depends on the database's locale). The
-- token is kept only as its SHA-256, in hex.
create table names (
  id bigint generated always as identity primary key,
  key text not null unique check (char_length(key) between 1 and 128),
  name text not null
    check (char_length(name) between 1 and 32)
    check (name ~ '[^[:space:]]')
    check (name !~ '[\x01-\x1f\x7f-\x9f]')
    check (name is nfkc normalized),
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  claimed_at timestamptz not null default now(),
  -- Moved forward (at most hourly) by each use of the token; a name unused
  -- for NAME_IDLE_DAYS is given to the next person who claims it.
  last_used_at timestamptz not null default now()
);

-- One-time codes that move a name to another device, hashed like tokens.
create table name_transfers (
  name_id bigint primary key references names (id) on delete cascade,
  code_hash text not null unique check (code_hash ~ '^[0-9a-f]{64}$'),
  expires_at timestamptz not null
);

-- name_id: the claim a message was posted under (verified), or null. Not a
-- foreign key: a name can be released while its messages stay, and a later
-- claim of the same name gets a new id, so it cannot edit them.
alter table messages
  add column name_id bigint,
  add column edited_at timestamptz,
  add column reply_to bigint check (reply_to > 0 and reply_to < id);

create table reactions (
  message_id bigint not null references messages (id) on delete cascade,
  name_id bigint not null,
  -- The name as claimed when reacting (what the message shows).
  name text not null check (char_length(name) between 1 and 32),
  -- protocol/reactions.ts's REACTION_EMOJIS.
  emoji text not null
    check (emoji in ('👍', '❤️', '😂', '🎉', '😮', '😢')),
  created_at timestamptz not null default clock_timestamp(),
  primary key (message_id, name_id, emoji)
);

create table changes (
  seq bigint primary key,
  kind text not null check (kind in ('edit', 'delete', 'reaction')),
  message_id bigint not null,
  at timestamptz not null default statement_timestamp()
);
create index changes_message_id on changes (message_id);

-- The old tombstones become delete changes, numbered now (after every
-- existing message, in the order they were deleted): whoever resumes from
-- before this migration hears of them once.
insert into changes (seq, kind, message_id, at)
select nextval('messages_id_seq'), 'delete', d.id, d.deleted_at
from (select id, deleted_at from deleted_messages order by deleted_at, id) d;

drop trigger messages_notify_delete on messages;
drop function messages_notify_delete();
drop table deleted_messages;

-- A message's reactions as protocol/reactions.ts's Reaction[]: emoji in the
-- set's order, names in the order they reacted, at most 50 of them
-- (MAX_REACTION_NAMES).
create function reactions_json(message_id bigint) returns json
language sql stable as $$
  select coalesce(json_agg(json_build_object(
      'emoji', g.emoji, 'count', g.n, 'names', to_json(g.names))
    order by array_position(
      array['👍', '❤️', '😂', '🎉', '😮', '😢'], g.emoji)), '[]'::json)
  from (
    select r.emoji, count(*)::int as n,
      (array_agg(r.name order by r.created_at, r.name_id))[1:50] as names
    from reactions r where r.message_id = $1
    group by r.emoji
  ) g
$$;

-- Renders a message exactly as the API does (protocol/message.ts). The
-- quote of the message replied to is read now, so it shows that message's
-- current text, and nulls once it is deleted.
create or replace function message_json(m messages) returns json
language sql stable as $$
  select json_build_object(
    'id', m.id,
    'author', m.author,
    'text', m.text,
    'createdAt', to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'clientId', m.client_id,
    'verified', m.name_id is not null,
    'editedAt', to_char(m.edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'replyTo', case when m.reply_to is not null then (
      select json_build_object(
        'id', m.reply_to,
        'author', p.author,
        -- REPLY_QUOTE_LENGTH
        'text', case when char_length(p.text) > 100
          then left(p.text, 100) || '…' else p.text end)
      from (select 1) one left join messages p on p.id = m.reply_to) end,
    'reactions', reactions_json(m.id)
  )
$$;

-- Takes the next number of the change log. The lock is held until commit.
create function next_change_seq() returns bigint
language plpgsql as $$
begin
  perform pg_advisory_xact_lock(7461626);
  return nextval('messages_id_seq');
end;
$$;

-- Tells every instance's listener of a change. NOTIFY payloads must stay
-- under 8000 bytes: a larger one goes without its `field`, and the listener
-- reads the change (server/store/change_feed.ts parses both).
create function notify_change(
  seq bigint, kind text, message_id bigint, field text, value json
) returns void
language plpgsql as $$
declare
  payload text;
begin
  if field is not null then
    payload := json_build_object(
      'seq', seq, 'kind', kind, 'id', message_id, field, value)::text;
  end if;
  if payload is null or octet_length(payload) >= 8000 then
    payload := json_build_object('seq', seq, 'kind', kind, 'id', message_id)::text;
  end if;
  perform pg_notify('plaza_changes', payload);
end;
$$;

-- New messages: the id is their number; a reply must answer a message that
-- exists once the lock is held (a delete committed before it is seen, one
-- after it is numbered after it).
create or replace function messages_assign_id() returns trigger
language plpgsql as $$
begin
  perform pg_advisory_xact_lock(7461626);
  if new.reply_to is not null
    and not exists (select 1 from messages where id = new.reply_to) then
    raise exception using
      errcode = 'foreign_key_violation',
      message = format('There is no message %s to reply to.', new.reply_to);
  end if;
  new.id := nextval('messages_id_seq');
  return new;
end;
$$;

create or replace function messages_notify() returns trigger
language plpgsql as $$
begin
  perform notify_change(new.id, 'message', new.id, 'message', message_json(new));
  return null;
end;
$$;

-- Edits: a changed text (or author) is stamped and logged; ids never change.
create function messages_before_update() returns trigger
language plpgsql as $$
begin
  if new.id is distinct from old.id then
    raise exception using
      errcode = 'check_violation', message = 'A message id never changes.';
  end if;
  if new.text is distinct from old.text
    or new.author is distinct from old.author then
    new.edited_at := date_trunc('milliseconds', statement_timestamp());
  end if;
  return new;
end;
$$;

create trigger messages_before_update
  before update on messages
  for each row execute function messages_before_update();

create function messages_log_edit() returns trigger
language plpgsql as $$
declare
  seq bigint := next_change_seq();
begin
  insert into changes (seq, kind, message_id) values (seq, 'edit', new.id);
  perform notify_change(seq, 'edit', new.id, 'message', message_json(new));
  return null;
end;
$$;

create trigger messages_log_edit
  after update on messages
  for each row
  when (old.text is distinct from new.text
    or old.author is distinct from new.author)
  execute function messages_log_edit();

-- Deletes: logged for good (a client resuming from any point hears of it);
-- the message's earlier edits and reactions leave the log, as a replay would
-- skip them anyway.
create function messages_log_delete() returns trigger
language plpgsql as $$
declare
  seq bigint := next_change_seq();
begin
  delete from changes where message_id = old.id;
  insert into changes (seq, kind, message_id) values (seq, 'delete', old.id);
  perform notify_change(seq, 'delete', old.id, null, null);
  return null;
end;
$$;

create trigger messages_log_delete
  after delete on messages
  for each row execute function messages_log_delete();

-- Reactions added or taken back. Those removed along with their message
-- (the cascade of its delete) are not changes of their own.
create function reactions_log() returns trigger
language plpgsql as $$
declare
  ids bigint[];
  mid bigint;
  seq bigint;
begin
  if tg_op = 'INSERT' then
    ids := array[new.message_id];
  elsif tg_op = 'DELETE' then
    ids := array[old.message_id];
  else
    ids := array[new.message_id];
    if old.message_id <> new.message_id then ids := ids || old.message_id; end if;
  end if;
  foreach mid in array ids loop
    if exists (select 1 from messages where id = mid) then
      seq := next_change_seq();
      insert into changes (seq, kind, message_id) values (seq, 'reaction', mid);
      perform notify_change(seq, 'reaction', mid, 'reactions', reactions_json(mid));
    end if;
  end loop;
  return null;
end;
$$;

create trigger reactions_log
  after insert or update or delete on reactions
  for each row execute function reactions_log();
