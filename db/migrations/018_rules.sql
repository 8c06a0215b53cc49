-- Word and link rules, the mutes they hand out, the messages they hold for
-- a moderator, and when each client address was first seen (the newcomer
-- delay). server/limits/rules.ts caches the rules and mutes on every
-- instance; a change to either is announced on plaza_rules (db/channels.ts).

-- Taken first, as 005 did: no change is numbered half under the old rules.
select pg_advisory_xact_lock(7461626);

-- A rule: a word or phrase (matched after protocol/fold.ts's folding, on
-- word boundaries unless `substring`), or a link domain (its subdomains
-- too). The app stores `pattern` in its canonical form (folded words joined
-- by one space, or a lower-case ASCII host name), so one pattern is one rule.
create table moderation_rules (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('word', 'domain')),
  pattern text not null check (char_length(pattern) between 1 and 200),
  substring boolean not null default false,
  action text not null check (action in ('refuse', 'hold', 'mute')),
  -- How long a `mute` silences the name.
  mute_minutes integer check (mute_minutes between 1 and 525600),
  -- Shown to the poster in the refusal (and to moderators).
  reason text check (char_length(reason) <= 500),
  created_at timestamptz not null default now(),
  unique (kind, pattern, substring),
  check ((action = 'mute') = (mute_minutes is not null)),
  check (kind = 'word' or not substring)
);

-- Names a `mute` rule silenced: no post until `until`. By key, as bans are.
create table rule_mutes (
  name_key text primary key check (char_length(name_key) between 1 and 128),
  name text not null check (char_length(name) between 1 and 32),
  until timestamptz not null,
  reason text check (char_length(reason) <= 500),
  rule_id bigint
);

create function moderation_rules_notify() returns trigger
language plpgsql as $$
begin
  perform pg_notify('plaza_rules', '');
  return null;
end;
$$;

create trigger moderation_rules_notify
  after insert or update or delete on moderation_rules
  for each statement execute function moderation_rules_notify();
create trigger rule_mutes_notify
  after insert or update or delete on rule_mutes
  for each statement execute function moderation_rules_notify();

-- Messages a `hold` rule kept back. Not in `messages`: nothing that reads
-- the room (history, search, the change log, push) can show one. The id is
-- drawn from messages_id_seq, so a held message sorts where it was posted
-- and never shares an id with a message; no change has that number, which
-- readers of the log take as any other gap. Streams opened under the claim
-- that posted it (name_id) are told of it (plaza_held) and shown it with
-- `held: true`. Approving inserts it into `messages` (a new id: a change
-- like any new message); approving or rejecting deletes the row, which
-- logs a `delete` of the held id, so every copy an author's client shows
-- goes, resumed clients included (others never had it and ignore it).
-- Attachments (pictures) would be kept here too, once messages have them.
create table held_messages (
  id bigint primary key,
  author text not null check (char_length(author) between 1 and 32),
  text text not null check (char_length(text) between 1 and 2000),
  client_id uuid unique,
  reply_to bigint,
  name_id bigint,
  created_at timestamptz not null
    default date_trunc('milliseconds', statement_timestamp()),
  rule_id bigint,
  -- What the rule matched, for moderators.
  matched text check (char_length(matched) <= 200)
);
create index held_messages_name on held_messages (name_id)
  where name_id is not null;

create function held_messages_assign_id() returns trigger
language plpgsql as $$
begin
  new.id := nextval('messages_id_seq');
  return new;
end;
$$;

create trigger held_messages_assign_id
  before insert on held_messages
  for each row execute function held_messages_assign_id();

-- A held message of a claim: its author's streams, wherever they are, are
-- told it. The message travels in the payload, so it reaches them before
-- the delete of an approval or rejection that follows; one too large for a
-- payload (under 8000 bytes) goes as its ids and is read.
create function held_messages_notify() returns trigger
language plpgsql as $$
declare
  payload text;
begin
  if new.name_id is null then
    return null;
  end if;
  payload := json_build_object(
    'id', new.id, 'nameId', new.name_id, 'message', held_json(new))::text;
  if octet_length(payload) >= 8000 then
    payload := json_build_object('id', new.id, 'nameId', new.name_id)::text;
  end if;
  perform pg_notify('plaza_held', payload);
  return null;
end;
$$;

create trigger held_messages_notify
  after insert on held_messages
  for each row execute function held_messages_notify();

-- Approved or rejected: the held id leaves every list that shows it.
create function held_messages_log_delete() returns trigger
language plpgsql as $$
declare
  seq bigint := next_change_seq();
begin
  insert into changes (seq, kind, message_id) values (seq, 'delete', old.id);
  perform notify_change(seq, 'delete', old.id, null, null);
  return null;
end;
$$;

create trigger held_messages_log_delete
  after delete on held_messages
  for each row execute function held_messages_log_delete();

-- A held message as protocol/message.ts's Message, with `held: true`.
create function held_json(h held_messages) returns json
language plpgsql stable as $$
declare
  reply json;
begin
  if h.reply_to is not null then
    select json_build_object(
        'id', h.reply_to,
        'author', p.author,
        -- REPLY_QUOTE_LENGTH
        'text', case when char_length(p.text) > 100
          then left(p.text, 100) || '…' else p.text end)
      into reply
      from (select 1) one left join messages p on p.id = h.reply_to;
  end if;
  return json_build_object(
    'id', h.id,
    'author', h.author,
    'text', h.text,
    'createdAt', to_char(h.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'clientId', h.client_id,
    'verified', h.name_id is not null,
    'editedAt', null,
    'replyTo', reply,
    'reactions', '[]'::json,
    'preview', null,
    'held', true
  );
end;
$$;

-- When each client address was first seen posting or opening a stream, for
-- NEWCOMER_DELAY_MINUTES. Written once per address (instances remember
-- what they wrote); old rows can go, a returning address is then new again.
create table address_first_seen (
  address text primary key check (char_length(address) <= 64),
  first_seen timestamptz not null default now()
);
