-- Pictures in messages (server/attachments/, server/store/attachment_store.ts).
--
-- A picture is uploaded first (POST /attachments): its checked, re-encoded
-- bytes go into attachment_blobs under their SHA-256 (the same picture twice
-- is stored once) and the upload gets a row in `attachments`. A message then
-- names its uploads; the insert trigger below claims each one (an upload
-- serves one message) and copies what a client needs into the message row,
-- so the NOTIFY payload, history, resume and search all carry it. When a
-- message is deleted (by its author, a moderator, a ban's removal of recent
-- messages), its uploads become tombstones (GET answers 410) and their bytes
-- go unless another upload still holds the same blob.

select pg_advisory_xact_lock(7461626);

create table attachment_blobs (
  sha256 text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
  type text not null
    check (type in ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
  width integer not null check (width > 0),
  height integer not null check (height > 0),
  data bytea not null,
  -- Null: the picture is small enough to be its own thumbnail.
  thumb bytea,
  thumb_type text
    check (thumb_type in ('image/jpeg', 'image/png', 'image/webp')),
  -- octet_length(data) + octet_length(thumb): what IMAGE_STORAGE_CAP counts.
  stored_bytes bigint not null check (stored_bytes > 0),
  created_at timestamptz not null default now(),
  check ((thumb is null) = (thumb_type is null))
);

-- Pictures are compressed already: TOAST's pglz would spend CPU on every
-- write for nothing. EXTERNAL keeps them out of line, uncompressed.
alter table attachment_blobs
  alter column data set storage external,
  alter column thumb set storage external;

create table attachments (
  id text primary key check (id ~ '^[A-Za-z0-9_-]{22}$'),
  -- Null once deleted (a tombstone: GET answers 410).
  blob text references attachment_blobs (sha256),
  -- The uploader: the name's key (protocol/names.ts) and its claim, if any.
  name_key text not null check (char_length(name_key) between 1 and 128),
  name_id bigint,
  address text check (char_length(address) <= 64),
  -- The message carrying it; null while unused (removed after a while).
  message_id bigint,
  created_at timestamptz not null default now(),
  deleted_at timestamptz,
  check ((blob is null) = (deleted_at is not null))
);
create index attachments_blob on attachments (blob);
create index attachments_message on attachments (message_id)
  where message_id is not null;
create index attachments_unused on attachments (created_at)
  where message_id is null;

-- What a message carries (protocol/attachments.ts Attachment[]), or null.
alter table messages add column attachments jsonb;

-- A message may now be a picture without words: text may be empty when it
-- carries attachments. 001's checks on text are replaced by equivalent ones.
do $$
declare
  c record;
begin
  for c in
    select conname from pg_constraint
    where conrelid = 'messages'::regclass and contype = 'c'
      and (pg_get_constraintdef(oid) like '%char_length(text)%'
        or pg_get_constraintdef(oid) like '%text ~ %')
  loop
    execute format('alter table messages drop constraint %I', c.conname);
  end loop;
end;
$$;
alter table messages
  add constraint messages_text_length check (char_length(text) <= 2000),
  add constraint messages_text_or_pictures check (
    text ~ '[^[:space:]]' or (text = '' and attachments is not null));

-- Claims the uploads a new message names ([{id, alt}], written by the app
-- after checking they are the author's) and puts [{id, width, height, type,
-- alt}] in their place. Runs after messages_assign_id (triggers fire in name
-- order), so new.id is set. An upload already used, deleted or unknown
-- refuses the whole message.
create function messages_take_attachments() returns trigger
language plpgsql as $$
declare
  ref jsonb;
  pic record;
  taken jsonb := '[]'::jsonb;
begin
  if new.attachments is null or jsonb_array_length(new.attachments) = 0 then
    new.attachments := null;
    return new;
  end if;
  -- A repeat of a clientId inserts nothing (ON CONFLICT DO NOTHING): its
  -- pictures stay with the original.
  if new.client_id is not null
    and exists (select 1 from messages where client_id = new.client_id) then
    return new;
  end if;
  for ref in select value from jsonb_array_elements(new.attachments) loop
    update attachments a set message_id = new.id
      from attachment_blobs b
      where a.id = ref->>'id' and a.message_id is null and b.sha256 = a.blob
      returning b.width, b.height, b.type into pic;
    if not found then
      raise exception using
        errcode = 'foreign_key_violation',
        message = format(
          'Picture %s is already in a message, or was removed: upload it again.',
          ref->>'id');
    end if;
    taken := taken || jsonb_build_array(jsonb_build_object(
      'id', ref->>'id', 'width', pic.width, 'height', pic.height,
      'type', pic.type, 'alt', coalesce(ref->>'alt', '')));
  end loop;
  new.attachments := taken;
  return new;
end;
$$;

create trigger messages_take_attachments
  before insert on messages
  for each row execute function messages_take_attachments();

-- A deleted message's pictures: tombstoned, and their bytes removed unless
-- another upload (a live message's or an unused one) holds the same blob.
create function messages_drop_attachments() returns trigger
language plpgsql as $$
declare
  blobs text[];
begin
  if old.attachments is null then
    return null;
  end if;
  select array_agg(blob) into blobs
    from attachments where message_id = old.id and blob is not null;
  update attachments set blob = null, deleted_at = now()
    where message_id = old.id and blob is not null;
  delete from attachment_blobs b
    where b.sha256 = any(blobs)
      and not exists (select 1 from attachments a where a.blob = b.sha256);
  return null;
end;
$$;

create trigger messages_drop_attachments
  after delete on messages
  for each row execute function messages_drop_attachments();

-- 015's message shape plus `attachments`.
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
    'attachments', coalesce(m.attachments::json, '[]'::json)
  );
end;
$$;

-- What a push notification says of a message (server/push/materialize.ts):
-- its text, or for pictures "sent a photo" (or "sent N photos"), the first
-- alt text and then the text. Never a picture's address: the notification
-- passes through the browser vendor's push service.
create function message_push_text(text text, attachments jsonb) returns text
language plpgsql immutable as $$
declare
  n integer := coalesce(jsonb_array_length(attachments), 0);
  alt text;
  said text;
begin
  if n = 0 then
    return text;
  end if;
  select a->>'alt' into alt from jsonb_array_elements(attachments) a
    where coalesce(a->>'alt', '') <> '' limit 1;
  said := case when n = 1 then 'sent a photo' else format('sent %s photos', n) end;
  if alt is not null then
    said := said || ': ' || alt;
  end if;
  if text <> '' then
    said := said || ' — ' || text;
  end if;
  return said;
end;
$$;
