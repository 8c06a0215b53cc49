-- The one room's messages. The CHECKs mirror protocol/message.ts so that no
-- writer, psql included, can store what the API would refuse.
create sequence messages_id_seq as bigint;

create table messages (
  id bigint primary key,
  author text not null
    check (char_length(author) between 1 and 32)
    check (author ~ '[^[:space:]]')
    check (author !~ '[\x01-\x1f\x7f-\x9f]')
    check (author is nfc normalized),
  text text not null
    check (char_length(text) between 1 and 2000)
    check (text ~ '[^[:space:]]')
    check (text !~ '[\x01-\x09\x0b-\x1f\x7f-\x9f]')
    check (text is nfc normalized),
  -- Millisecond precision so that every path (row, NOTIFY payload, JSON)
  -- renders the same ISO timestamp.
  created_at timestamptz not null
    default date_trunc('milliseconds', statement_timestamp())
);

alter sequence messages_id_seq owned by messages.id;

-- Ids are taken under a transaction-level advisory lock held until commit, so
-- ids become visible in increasing order: a reader resuming after id N can
-- never miss a smaller id that commits later. Doing it in a trigger covers
-- every writer, not only the app.
create function messages_assign_id() returns trigger
language plpgsql as $$
begin
  perform pg_advisory_xact_lock(7461626);
  new.id := nextval('messages_id_seq');
  return new;
end;
$$;

create trigger messages_assign_id
  before insert on messages
  for each row execute function messages_assign_id();

-- Renders a message exactly as the API does (protocol/message.ts).
create function message_json(m messages) returns json
language sql stable as $$
  select json_build_object(
    'id', m.id,
    'author', m.author,
    'text', m.text,
    'createdAt', to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )
$$;

-- Every committed row reaches every instance's listener. NOTIFY payloads must
-- stay under 8000 bytes; a longer message sends only its id and the listener
-- reads the row.
create function messages_notify() returns trigger
language plpgsql as $$
declare
  payload text := message_json(new)::text;
begin
  if octet_length(payload) >= 8000 then
    payload := json_build_object('id', new.id)::text;
  end if;
  perform pg_notify('plaza_messages', payload);
  return null;
end;
$$;

create trigger messages_notify
  after insert on messages
  for each row execute function messages_notify();
